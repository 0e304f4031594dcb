"""The shapes of the identifiers the app accepts, declared once for the HTTP API, the events and the settings.

Each pattern is ASCII-only and anchored with \\A...\\Z: `$` would also match before a trailing newline, and `\\d`
would match any Unicode digit (a fullwidth "1" at the end of "+1425555010"). Sources: the SDK's raw-id prefixes
(azure.communication.callautomation._shared.models), contract §1.4, §3 and §4. Where ACS documents no shape
(call connection, invitation and event ids), the rule is "an opaque token": ASCII letters, digits, '.', '_',
'-', starting with a letter or digit, so no id can be "..", hold a "/" or a control character.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Annotations only (they are not evaluated at run time): typing.TypeIs arrives with Python 3.13.
    from typing_extensions import TypeIs

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# E.164: "+", a country code that does not start with 0, 7 to 15 digits in all.
E164 = re.compile(r"\A\+[1-9][0-9]{6,14}\Z")
# An ACS user: 8:acs:<resource id>_<user id> (and the government clouds' 8:gcch-acs:, 8:dod-acs:).
ACS_USER = re.compile(r"\A8:(?:acs|gcch-acs|dod-acs):[A-Za-z0-9-]{1,64}_[A-Za-z0-9-]{1,128}\Z")
# A Teams user: 8:orgid:<AAD object id> (8:dod:, 8:gcch:, 8:teamsvisitor: for other clouds and visitors).
TEAMS_USER = re.compile(rf"\A8:(?:orgid|dod|gcch|teamsvisitor):{_GUID}\Z")
# A phone participant's raw id: 4:+E.164, optionally with an asserted id (4:+1..._<id>), or 4:anonymous.
PHONE_RAW_ID = re.compile(r"\A4:(?:\+[1-9][0-9]{6,14}(?:_[A-Za-z0-9+-]{1,64})?|anonymous)\Z")
# Any raw id an event may carry ("<prefix>:<rest>"): printable ASCII without spaces, bounded.
RAW_ID = re.compile(r"\A[0-9]{1,2}:[\x21-\x7e]{1,500}\Z")
# A serverCallId is standard (or URL-safe) base64 of the conversation URL.
SERVER_CALL_ID = re.compile(r"\A[A-Za-z0-9+/_-]{1,4096}={0,2}\Z")
GROUP_CALL_ID = re.compile(rf"\A{_GUID}\Z")
# Rooms ids are server-generated digits ("99466898241024408"); Event Grid's model calls them GUIDs: both accepted.
ROOM_ID = re.compile(rf"\A(?:[0-9]{{1,32}}|{_GUID})\Z")
# callConnectionId, invitationId and event ids: opaque tokens (GUIDs in every capture).
OPAQUE_ID = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
CALL_CONNECTION_ID = OPAQUE_ID
# CloudEvents and Event Grid ids: GUIDs in practice, any non-empty string by the specs; printable ASCII here.
EVENT_ID = re.compile(r"\A[\x21-\x7e]{1,256}\Z")


def is_e164(value: object) -> TypeIs[str]:
    return isinstance(value, str) and E164.match(value) is not None


def is_acs_user(value: object) -> TypeIs[str]:
    return isinstance(value, str) and ACS_USER.match(value) is not None


def is_target(value: object) -> TypeIs[str]:
    """Whom the app can call, add or transfer to: an E.164 number or an ACS user."""
    return is_e164(value) or is_acs_user(value)


def is_phone_raw_id(value: object) -> TypeIs[str]:
    return isinstance(value, str) and PHONE_RAW_ID.match(value) is not None


def is_raw_id(value: object) -> TypeIs[str]:
    return isinstance(value, str) and RAW_ID.match(value) is not None


def matches(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None
