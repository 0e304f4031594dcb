"""CommunicationIdentifierModel parsing: requests from the SDK carry no `kind`; responses and events always do."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import invalid_field, missing_field

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
KIND_FIELDS = {
    "communicationUser": "communicationUser",
    "phoneNumber": "phoneNumber",
    "microsoftTeamsUser": "microsoftTeamsUser",
    "microsoftTeamsApp": "microsoftTeamsApp",
    "teamsExtensionUser": "teamsExtensionUser",
}


@dataclass(frozen=True)
class Identifier:
    """One participant identity, keyed everywhere by its raw id (e.g. `4:+15551230000`, `8:acs:res_user`)."""

    kind: str
    raw_id: str
    detail: tuple[tuple[str, object], ...]

    @property
    def is_phone(self) -> bool:
        return self.kind == "phoneNumber"

    @property
    def is_acs_user(self) -> bool:
        return self.kind == "communicationUser"

    @property
    def phone_number(self) -> str | None:
        return str(dict(self.detail)["value"]) if self.is_phone else None

    def to_model(self) -> dict:
        return {"rawId": self.raw_id, "kind": self.kind, self.kind: dict(self.detail)}

    @classmethod
    def phone(cls, number: str) -> Identifier:
        return cls("phoneNumber", f"4:{number}", (("value", number),))

    @classmethod
    def acs_user(cls, user_id: str) -> Identifier:
        return cls("communicationUser", user_id, (("id", user_id),))

    @classmethod
    def parse_raw_id(cls, raw_id: str) -> Identifier:
        """Build an identifier from its raw id, as used in URLs and on the control API."""
        if raw_id.startswith("4:"):
            return cls.phone(raw_id[2:])
        if raw_id.startswith("+"):
            return cls.phone(raw_id)
        if raw_id.startswith("8:orgid:"):
            detail = (("userId", raw_id[8:]), ("isAnonymous", False), ("cloud", "public"))
            return cls("microsoftTeamsUser", raw_id, detail)
        if raw_id.startswith("28:orgid:"):
            return cls("microsoftTeamsApp", raw_id, (("appId", raw_id[9:]), ("cloud", "public")))
        if raw_id.startswith("8:"):
            return cls.acs_user(raw_id)
        raise invalid_field("rawId", f"unrecognised raw id {raw_id!r}")


def parse_identifier(value: object, path: str) -> Identifier:
    """Validate one CommunicationIdentifierModel from a request body; errors name the JSON path."""
    if value is None:
        raise missing_field(path)
    if not isinstance(value, dict):
        raise invalid_field(path, "must be an object")
    present = [name for name in KIND_FIELDS if value.get(name) is not None]
    if len(present) > 1:
        raise invalid_field(path, f"only one of {', '.join(present)} may be set")
    if not present:
        raw_id = value.get("rawId")
        if isinstance(raw_id, str) and raw_id:
            return Identifier.parse_raw_id(raw_id)
        raise invalid_field(path, "one of communicationUser, phoneNumber, microsoftTeamsUser must be set")
    kind = present[0]
    detail = value[kind]
    if not isinstance(detail, dict):
        raise invalid_field(f"{path}.{kind}", "must be an object")
    if kind == "phoneNumber":
        number = detail.get("value")
        if not isinstance(number, str) or not E164.match(number):
            raise invalid_field(f"{path}.phoneNumber.value", "must be an E.164 number such as +15551230000")
        return Identifier.phone(number)
    if kind == "communicationUser":
        user_id = detail.get("id")
        if not isinstance(user_id, str) or not user_id:
            raise missing_field(f"{path}.communicationUser.id")
        return Identifier.acs_user(user_id)
    if kind == "microsoftTeamsUser":
        user_id = detail.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise missing_field(f"{path}.microsoftTeamsUser.userId")
        raw_id = value.get("rawId") or f"8:orgid:{user_id}"
        cloud = detail.get("cloud") or "public"
        anonymous = bool(detail.get("isAnonymous"))
        return Identifier(kind, raw_id, (("userId", user_id), ("isAnonymous", anonymous), ("cloud", cloud)))
    if kind == "microsoftTeamsApp":
        app_id = detail.get("appId")
        if not isinstance(app_id, str) or not app_id:
            raise missing_field(f"{path}.microsoftTeamsApp.appId")
        raw_id = value.get("rawId") or f"28:orgid:{app_id}"
        return Identifier(kind, raw_id, (("appId", app_id), ("cloud", detail.get("cloud") or "public")))
    user_id = detail.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise missing_field(f"{path}.teamsExtensionUser.userId")
    raw_id = value.get("rawId") or f"8:acs:{detail.get('resourceId', '')}_{user_id}"
    return Identifier(kind, raw_id, tuple(sorted((k, v) for k, v in detail.items() if v is not None)))


def parse_communication_user(value: object, path: str) -> Identifier:
    """Validate a CommunicationUserIdentifierModel (`{"id": "8:acs:..."}`), the shape of CreateCall's `source`."""
    if not isinstance(value, dict):
        raise invalid_field(path, "must be an object with an id")
    user_id = value.get("id")
    if not isinstance(user_id, str) or not user_id.startswith("8:"):
        raise invalid_field(f"{path}.id", "must be a Communication Services user id such as 8:acs:...")
    return Identifier.acs_user(user_id)


def parse_phone_number(value: object, path: str) -> str:
    """Validate a PhoneNumberIdentifierModel (`{"value": "+1..."}`) such as sourceCallerIdNumber."""
    if not isinstance(value, dict):
        raise invalid_field(path, "must be an object with a value")
    number = value.get("value")
    if not isinstance(number, str) or not E164.match(number):
        raise invalid_field(f"{path}.value", "must be an E.164 number such as +15551230000")
    return number
