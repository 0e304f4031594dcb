"""Identity and Rooms operations with the real azure-communication-identity and -rooms SDKs, HMAC-signed."""

from datetime import UTC, datetime, timedelta

import pytest
from azure.communication.callautomation import CallAutomationClient, PhoneNumberIdentifier
from azure.communication.identity import CommunicationIdentityClient, CommunicationTokenScope
from azure.communication.rooms import ParticipantRole, RoomParticipant, RoomsClient
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from emulator.server import EmulatorServer
from emulator.testing import CallbackRecorder, EventGridRecorder


def moment(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def identity(emulator: EmulatorServer) -> CommunicationIdentityClient:
    return CommunicationIdentityClient(emulator.url, AzureKeyCredential(emulator.config.access_key))


@pytest.fixture
def rooms(emulator: EmulatorServer) -> RoomsClient:
    return RoomsClient(emulator.url, AzureKeyCredential(emulator.config.access_key))


def test_create_user_and_token_then_a_new_token(
    emulator: EmulatorServer, identity: CommunicationIdentityClient
) -> None:
    user, token = identity.create_user_and_token([CommunicationTokenScope.VOIP])
    assert user.raw_id.startswith(f"8:acs:{emulator.config.resource_id}_")
    assert token.token.count(".") == 2
    # The SDK passes expiresOn through as the service's ISO-8601 text.
    assert moment(token.expires_on) > datetime.now(UTC) + timedelta(hours=23)
    renewed = identity.get_token(user, [CommunicationTokenScope.CHAT], token_expires_in=timedelta(hours=1))
    assert moment(renewed.expires_on) < moment(token.expires_on)
    plain = identity.create_user()
    assert plain.raw_id != user.raw_id
    identity.delete_user(plain)
    with pytest.raises(ResourceNotFoundError):
        identity.get_token(plain, [CommunicationTokenScope.VOIP])


def test_a_wrong_key_is_refused(emulator: EmulatorServer) -> None:
    wrong = CommunicationIdentityClient(emulator.url, AzureKeyCredential("d3Jvbmcta2V5"))
    with pytest.raises(ClientAuthenticationError):
        wrong.create_user()


def test_create_a_room_and_add_participants(identity: CommunicationIdentityClient, rooms: RoomsClient) -> None:
    alice, bob = identity.create_user(), identity.create_user()
    until = datetime.now(UTC) + timedelta(days=1)
    room = rooms.create_room(valid_until=until, participants=[RoomParticipant(communication_identifier=alice)])
    assert room.id.isdigit() and abs((moment(room.valid_until) - until).total_seconds()) < 1
    rooms.add_or_update_participants(
        room_id=room.id, participants=[RoomParticipant(communication_identifier=bob, role=ParticipantRole.PRESENTER)]
    )
    listed = {p.communication_identifier.raw_id: p.role for p in rooms.list_participants(room.id)}
    assert listed == {alice.raw_id: "Attendee", bob.raw_id: "Presenter"}
    rooms.remove_participants(room_id=room.id, participants=[alice])
    assert [p.communication_identifier.raw_id for p in rooms.list_participants(room.id)] == [bob.raw_id]
    assert rooms.get_room(room.id).id == room.id
    with pytest.raises(HttpResponseError):
        rooms.create_room(valid_from=until, valid_until=until - timedelta(hours=1))


def test_a_call_to_a_created_user_is_offered_to_the_apps(
    identity: CommunicationIdentityClient,
    client: CallAutomationClient,
    recorder: CallbackRecorder,
    eventgrid: EventGridRecorder,
) -> None:
    user = identity.create_user()
    client.create_call(user, recorder.url, source_caller_id_number=PhoneNumberIdentifier("+15550009999"))
    offer = eventgrid.wait_for("IncomingCall", predicate=lambda e: e["data"]["to"]["rawId"] == user.raw_id)
    assert offer["data"]["incomingCallContext"]
