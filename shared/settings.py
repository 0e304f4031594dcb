"""The app's settings: one frozen, typed object loaded from the environment and validated as a whole."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar
from urllib.parse import urlparse

from shared.errors import SettingsError
from shared.identifiers import ACS_USER, E164
from shared.media_urls import MediaUrlPolicy, storage_origins

T = TypeVar("T")

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

CHANNELS = ("mixed", "unmixed")
RECORDING_CONTENTS = ("audio", "audioVideo")
RECORDING_FORMATS = ("wav", "mp3", "mp4")
# (content, channel, format) combinations ACS records; anything else fails at StartRecording (8557).
RECORDING_COMBINATIONS = {("audio", "mixed", "wav"), ("audio", "mixed", "mp3"), ("audio", "unmixed", "wav"),
                          ("audioVideo", "mixed", "mp4")}  # fmt: skip

TRACES_EXPORTERS = ("none", "console", "azure-monitor")

DEFAULT_JWT_ISSUER = "https://acscallautomation.communication.azure.com"
DEFAULT_OPENID_CONFIG_URL = (
    "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration"
)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting the app reads; names match local.settings.sample.json and the Bicep app settings."""

    acs_endpoint: str | None = None
    acs_access_key: str | None = None
    acs_connection_string: str | None = None
    azure_client_id: str | None = None
    acs_tls_ca_bundle: str | None = None
    # Whether the SDK clients honour HTTP(S)_PROXY and NO_PROXY, read once as they are built (shared/transport.py).
    http_use_env_settings: bool = True

    callback_base_url: str
    callback_auth_enabled: bool = True
    callback_jwt_audience: str | None = None
    callback_jwt_issuer: str = DEFAULT_JWT_ISSUER
    callback_openid_config_url: str = DEFAULT_OPENID_CONFIG_URL
    # ACS tokens live 5 minutes (contract §5); a token whose exp is further from its iat (or from now) is refused.
    callback_jwt_max_lifetime_seconds: int = 600

    cognitive_services_endpoint: str | None = None

    storage_connection_string: str | None = None
    storage_table_endpoint: str | None = None
    state_table_name: str = "callstate"
    routing_table_name: str = "routingrules"
    orders_table_name: str = "orders"
    reminders_table_name: str = "reminders"
    pairings_table_name: str = "proxypairings"

    routing_default_flow: str = "ivr"
    routing_blocked_callers: tuple[str, ...] = ()
    routing_business_hours: str | None = None
    routing_timezone: str = "UTC"
    routing_after_hours_target: str | None = None

    ivr_locale: str = "en-US"
    ivr_voice_name: str = "en-US-JennyNeural"
    ivr_greeting_audio_url: str | None = None
    ivr_greeting_text: str = "Thank you for calling Contoso."
    ivr_menu_prompt: str = (
        "For the status of an order, press 1 or say order status. To talk to an agent, press 2 or say agent. "
        "To pay a bill, press 3 or say pay a bill."
    )
    ivr_order_number_prompt: str = "Please key in your order number, followed by the pound key."
    ivr_order_status_prompt: str = "Order {order_number} is {status}."
    ivr_order_not_found_prompt: str = "Sorry, we could not find order {order_number}."
    ivr_hold_prompt: str = "Please hold while we connect you to an agent."
    ivr_no_input_prompt: str = "Sorry, I didn't catch that."
    ivr_goodbye_prompt: str = "Thank you for calling. Goodbye."
    ivr_agent_unavailable_prompt: str = "Sorry, no agent is available right now. Please call again later. Goodbye."
    ivr_max_retries: int = 3
    ivr_input_timeout_seconds: int = 5
    ivr_order_number_max_digits: int = 10

    agent_target: str | None = None
    agent_caller_id: str | None = None
    agent_invitation_timeout_seconds: int = 30
    hold_music_url: str | None = None
    # Where ACS may fetch audio from (shared/media_urls.py); the app's own storage account is always allowed.
    media_url_allowlist: tuple[str, ...] = ()
    media_url_allow_local: bool = False

    outbound_caller_id: str | None = None
    reminder_prompt: str = (
        "Hello {name}, this is a reminder of your appointment on {when}. Press 1 or say confirm to confirm, "
        "2 or say cancel to cancel, 3 or say reschedule to reschedule."
    )
    reminder_confirmed_prompt: str = "Thank you, your appointment is confirmed. Goodbye."
    reminder_cancelled_prompt: str = "Your appointment has been cancelled. Goodbye."
    reminder_reschedule_prompt: str = "We will call you back to find a new time. Goodbye."
    reminder_no_response_prompt: str = "We did not get your answer. We will try again later. Goodbye."
    reminder_max_retries: int = 2
    masking_invitation_timeout_seconds: int = 30

    ivr_card_number_prompt: str = "Please key in your 16-digit card number, followed by the pound key."
    ivr_card_accepted_prompt: str = "Thank you. The card ending in {last4} has been accepted."
    ivr_card_invalid_prompt: str = "Sorry, that card number is not valid."

    # Recording (docs/recording.md): which flows are recorded, how, and into which Blob container.
    recording_enabled_flows: tuple[str, ...] = ()
    recording_content: str = "audio"
    recording_channel: str = "mixed"
    recording_format: str = "wav"
    recording_pause_on_start: bool = False
    recording_caller_channel: int | None = None
    recording_container_url: str | None = None
    recordings_table_name: str = "recordings"

    # Media streaming and transcription go to the WebSocket receiver (receiver/), which stores transcripts.
    receiver_websocket_url: str | None = None
    receiver_token: str | None = None
    media_streaming_enabled_flows: tuple[str, ...] = ()
    media_streaming_audio_channel: str = "mixed"
    transcription_enabled_flows: tuple[str, ...] = ()
    transcription_locale: str = "en-US"
    transcripts_table_name: str = "transcripts"

    # Exactly once under faults (docs/app-flows.md "Delivery semantics"): how long a claim's lease lasts, when the
    # watchdog runs and how long each step may wait before it recovers the call, and how long ended calls are kept.
    claim_lease_seconds: float = 30.0
    watchdog_schedule: str = "0 */1 * * * *"
    watchdog_grace_seconds: float = 30.0
    watchdog_idle_seconds: float = 600.0
    watchdog_audio_seconds: float = 30.0
    watchdog_time_scale: float = 1.0
    state_retention_hours: float = 72.0

    # --- Tracing (issue 14, shared/tracing.py) ---
    # Where the app's OpenTelemetry traces go: none, console, file:PATH (OTLP JSON lines) or azure-monitor.
    traces_exporter: str = "none"

    @property
    def callback_url(self) -> str:
        """Where ACS posts this app's mid-call events."""
        return f"{self.callback_base_url.rstrip('/')}/api/callbacks"

    @property
    def media_url_policy(self) -> MediaUrlPolicy:
        """MEDIA_URL_ALLOWLIST plus the blob origin of the app's own storage account."""
        return _media_url_policy(vars(self))

    @property
    def acs_auth(self) -> str:
        """How the app authenticates to ACS: "connection_string", "access_key" or "managed_identity"."""
        if self.acs_connection_string:
            return "connection_string"
        return "access_key" if self.acs_access_key else "managed_identity"

    @property
    def storage_auth(self) -> str:
        """How the app authenticates to Table Storage: "connection_string" or "managed_identity"."""
        return "connection_string" if self.storage_connection_string else "managed_identity"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Load and validate settings; raise SettingsError naming every problem at once."""
        reader = _Reader(environ)
        values: dict[str, Any] = {
            "acs_endpoint": reader.url("ACS_ENDPOINT"),
            "acs_access_key": reader.base64("ACS_ACCESS_KEY"),
            "acs_connection_string": reader.text("ACS_CONNECTION_STRING"),
            "azure_client_id": reader.text("AZURE_CLIENT_ID"),
            "acs_tls_ca_bundle": reader.text("ACS_TLS_CA_BUNDLE"),
            "http_use_env_settings": reader.boolean("HTTP_USE_ENV_SETTINGS", default=True),
            "callback_base_url": reader.url("CALLBACK_BASE_URL", required=True),
            "callback_auth_enabled": reader.boolean("CALLBACK_AUTH_ENABLED", default=True),
            "callback_jwt_audience": reader.text("CALLBACK_JWT_AUDIENCE"),
            "callback_jwt_issuer": reader.text("CALLBACK_JWT_ISSUER"),
            "callback_openid_config_url": reader.url("CALLBACK_OPENID_CONFIG_URL"),
            "callback_jwt_max_lifetime_seconds": reader.integer(
                "CALLBACK_JWT_MAX_LIFETIME_SECONDS", minimum=60, maximum=3600
            ),
            "cognitive_services_endpoint": reader.url("COGNITIVE_SERVICES_ENDPOINT"),
            "storage_connection_string": reader.text("STORAGE_CONNECTION_STRING"),
            "storage_table_endpoint": reader.url("STORAGE_TABLE_ENDPOINT"),
            "state_table_name": reader.table_name("STATE_TABLE_NAME"),
            "routing_table_name": reader.table_name("ROUTING_TABLE_NAME"),
            "orders_table_name": reader.table_name("ORDERS_TABLE_NAME"),
            "reminders_table_name": reader.table_name("REMINDERS_TABLE_NAME"),
            "pairings_table_name": reader.table_name("PAIRINGS_TABLE_NAME"),
            "routing_default_flow": reader.text("ROUTING_DEFAULT_FLOW"),
            "routing_blocked_callers": reader.targets("ROUTING_BLOCKED_CALLERS"),
            "routing_business_hours": reader.hours("ROUTING_BUSINESS_HOURS"),
            "routing_timezone": reader.timezone("ROUTING_TIMEZONE"),
            "routing_after_hours_target": reader.target("ROUTING_AFTER_HOURS_TARGET"),
            "ivr_locale": reader.text("IVR_LOCALE"),
            "ivr_voice_name": reader.text("IVR_VOICE_NAME"),
            "ivr_greeting_audio_url": reader.url("IVR_GREETING_AUDIO_URL"),
            "ivr_greeting_text": reader.text("IVR_GREETING_TEXT"),
            "ivr_menu_prompt": reader.text("IVR_MENU_PROMPT"),
            "ivr_order_number_prompt": reader.text("IVR_ORDER_NUMBER_PROMPT"),
            "ivr_order_status_prompt": reader.text("IVR_ORDER_STATUS_PROMPT"),
            "ivr_order_not_found_prompt": reader.text("IVR_ORDER_NOT_FOUND_PROMPT"),
            "ivr_hold_prompt": reader.text("IVR_HOLD_PROMPT"),
            "ivr_no_input_prompt": reader.text("IVR_NO_INPUT_PROMPT"),
            "ivr_goodbye_prompt": reader.text("IVR_GOODBYE_PROMPT"),
            "ivr_agent_unavailable_prompt": reader.text("IVR_AGENT_UNAVAILABLE_PROMPT"),
            "ivr_max_retries": reader.integer("IVR_MAX_RETRIES", minimum=1, maximum=10),
            "ivr_input_timeout_seconds": reader.integer("IVR_INPUT_TIMEOUT_SECONDS", minimum=1, maximum=20),
            "ivr_order_number_max_digits": reader.integer("IVR_ORDER_NUMBER_MAX_DIGITS", minimum=1, maximum=30),
            "agent_target": reader.target("AGENT_TARGET"),
            "agent_caller_id": reader.phone_number("AGENT_CALLER_ID"),
            "agent_invitation_timeout_seconds": reader.integer(
                "AGENT_INVITATION_TIMEOUT_SECONDS", minimum=1, maximum=180
            ),
            "hold_music_url": reader.url("HOLD_MUSIC_URL"),
            "media_url_allowlist": reader.media_url_allowlist("MEDIA_URL_ALLOWLIST"),
            "media_url_allow_local": reader.boolean("MEDIA_URL_ALLOW_LOCAL", default=False),
            "outbound_caller_id": reader.phone_number("OUTBOUND_CALLER_ID"),
            "reminder_prompt": reader.text("REMINDER_PROMPT"),
            "reminder_confirmed_prompt": reader.text("REMINDER_CONFIRMED_PROMPT"),
            "reminder_cancelled_prompt": reader.text("REMINDER_CANCELLED_PROMPT"),
            "reminder_reschedule_prompt": reader.text("REMINDER_RESCHEDULE_PROMPT"),
            "reminder_no_response_prompt": reader.text("REMINDER_NO_RESPONSE_PROMPT"),
            "reminder_max_retries": reader.integer("REMINDER_MAX_RETRIES", minimum=1, maximum=10),
            "masking_invitation_timeout_seconds": reader.integer(
                "MASKING_INVITATION_TIMEOUT_SECONDS", minimum=1, maximum=180
            ),
            "ivr_card_number_prompt": reader.text("IVR_CARD_NUMBER_PROMPT"),
            "ivr_card_accepted_prompt": reader.text("IVR_CARD_ACCEPTED_PROMPT"),
            "ivr_card_invalid_prompt": reader.text("IVR_CARD_INVALID_PROMPT"),
            "recording_enabled_flows": reader.names("RECORDING_ENABLED_FLOWS"),
            "recording_content": reader.choice("RECORDING_CONTENT", RECORDING_CONTENTS),
            "recording_channel": reader.choice("RECORDING_CHANNEL", CHANNELS),
            "recording_format": reader.choice("RECORDING_FORMAT", RECORDING_FORMATS),
            "recording_pause_on_start": reader.boolean("RECORDING_PAUSE_ON_START", default=False),
            "recording_caller_channel": reader.integer("RECORDING_CALLER_CHANNEL", minimum=0, maximum=4),
            "recording_container_url": reader.url("RECORDING_CONTAINER_URL"),
            "recordings_table_name": reader.table_name("RECORDINGS_TABLE_NAME"),
            "receiver_websocket_url": reader.websocket_url("RECEIVER_WEBSOCKET_URL"),
            "receiver_token": reader.text("RECEIVER_TOKEN"),
            "media_streaming_enabled_flows": reader.names("MEDIA_STREAMING_ENABLED_FLOWS"),
            "media_streaming_audio_channel": reader.choice("MEDIA_STREAMING_AUDIO_CHANNEL", CHANNELS),
            "transcription_enabled_flows": reader.names("TRANSCRIPTION_ENABLED_FLOWS"),
            "transcription_locale": reader.locale("TRANSCRIPTION_LOCALE"),
            "transcripts_table_name": reader.table_name("TRANSCRIPTS_TABLE_NAME"),
            "claim_lease_seconds": reader.number("CLAIM_LEASE_SECONDS", minimum=1, maximum=600),
            "watchdog_schedule": reader.schedule("WATCHDOG_SCHEDULE"),
            "watchdog_grace_seconds": reader.number("WATCHDOG_GRACE_SECONDS", minimum=0, maximum=3600),
            "watchdog_idle_seconds": reader.number("WATCHDOG_IDLE_SECONDS", minimum=1, maximum=86400),
            "watchdog_audio_seconds": reader.number("WATCHDOG_AUDIO_SECONDS", minimum=0, maximum=3600),
            "watchdog_time_scale": reader.number("WATCHDOG_TIME_SCALE", minimum=0.001, maximum=1),
            "state_retention_hours": reader.number("STATE_RETENTION_HOURS", minimum=0.01, maximum=8760),
            # --- Tracing (issue 14) ---
            "traces_exporter": reader.traces_exporter("TRACES_EXPORTER"),
        }
        _check_combinations(values, reader.problems)
        if reader.problems:
            raise SettingsError("Invalid settings: " + "; ".join(reader.problems))
        defaults = {f.name: f.default for f in fields(cls)}
        return cls(**{name: value if value is not None else defaults[name] for name, value in values.items()})


def _check_combinations(values: dict[str, Any], problems: list[str]) -> None:
    """Rules that involve more than one setting."""
    if not values["acs_connection_string"] and not values["acs_endpoint"]:
        problems.append("ACS_ENDPOINT is missing (or set ACS_CONNECTION_STRING)")
    if not values["storage_connection_string"] and not values["storage_table_endpoint"]:
        problems.append("STORAGE_CONNECTION_STRING is missing (or set STORAGE_TABLE_ENDPOINT)")
    if values["callback_auth_enabled"] is not False and not values["callback_jwt_audience"]:
        problems.append("CALLBACK_JWT_AUDIENCE is missing (required while CALLBACK_AUTH_ENABLED is true)")
    target = values["agent_target"]
    if target and E164.match(target) and not values["agent_caller_id"]:
        problems.append("AGENT_CALLER_ID is missing (required when AGENT_TARGET is a phone number)")
    _check_recording(values, problems)
    _check_media_urls(values, problems)
    streamed = values["media_streaming_enabled_flows"] or values["transcription_enabled_flows"]
    if streamed and not values["receiver_websocket_url"]:
        problems.append(
            "RECEIVER_WEBSOCKET_URL is missing (MEDIA_STREAMING_ENABLED_FLOWS and TRANSCRIPTION_ENABLED_FLOWS need it)"
        )


def _check_media_urls(values: dict[str, Any], problems: list[str]) -> None:
    """The media URLs in settings obey the same policy as the ones the API receives."""
    policy = _media_url_policy(values)
    for name in ("HOLD_MUSIC_URL", "IVR_GREETING_AUDIO_URL"):
        url = values[name.lower()]
        if url and (reason := policy.refusal(url)):
            problems.append(f"{name} {reason}")


def _media_url_policy(values: Mapping[str, Any]) -> MediaUrlPolicy:
    own = storage_origins(values["recording_container_url"], values["storage_table_endpoint"])
    return MediaUrlPolicy(
        allowed=(*(values["media_url_allowlist"] or ()), *own), allow_local=bool(values["media_url_allow_local"])
    )


def _check_recording(values: dict[str, Any], problems: list[str]) -> None:
    content = values["recording_content"] or "audio"
    channel = values["recording_channel"] or "mixed"
    format_ = values["recording_format"] or "wav"
    if (content, channel, format_) not in RECORDING_COMBINATIONS:
        problems.append(
            f"RECORDING_FORMAT {format_} cannot record {channel} {content} "
            "(mixed audio: wav or mp3; unmixed audio: wav; audioVideo: mixed mp4)"
        )
    if values["recording_caller_channel"] is not None and channel != "unmixed":
        problems.append("RECORDING_CALLER_CHANNEL needs RECORDING_CHANNEL=unmixed (mixed recordings have one channel)")


class _Reader:
    """Reads typed values from the environment, collecting every problem instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def _read(self, name: str, parse: Callable[[str], T], expectation: str, *, required: bool = False) -> T | None:
        raw = self._environ.get(name, "").strip()
        if not raw:
            if required:
                self.problems.append(f"{name} is missing")
            return None
        try:
            return parse(raw)
        except ValueError:
            self.problems.append(f"{name} must be {expectation}")
            return None

    def text(self, name: str, *, required: bool = False) -> str | None:
        return self._read(name, str, "text", required=required)

    def url(self, name: str, *, required: bool = False) -> str | None:
        return self._read(name, _http_url, "an http(s) URL", required=required)

    def base64(self, name: str) -> str | None:
        return self._read(name, _base64, "base64 (the ACS access key)")

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self._read(name, _boolean, "true or false")
        return default if value is None else value

    def integer(self, name: str, *, minimum: int, maximum: int) -> int | None:
        def parse(raw: str) -> int:
            value = int(raw)
            if not minimum <= value <= maximum:
                raise ValueError(raw)
            return value

        return self._read(name, parse, f"an integer from {minimum} to {maximum}")

    def number(self, name: str, *, minimum: float, maximum: float) -> float | None:
        def parse(raw: str) -> float:
            value = float(raw)
            if not minimum <= value <= maximum:
                raise ValueError(raw)
            return value

        return self._read(name, parse, f"a number from {minimum:g} to {maximum:g}")

    def schedule(self, name: str) -> str | None:
        return self._read(name, _ncrontab, 'a six-field NCRONTAB schedule such as "0 */1 * * * *"')

    def phone_number(self, name: str) -> str | None:
        return self._read(name, _phone_number, "an E.164 phone number such as +15551230199")

    def target(self, name: str) -> str | None:
        return self._read(name, _target, 'an E.164 phone number or an ACS user id ("8:acs:...")')

    def targets(self, name: str) -> tuple[str, ...] | None:
        def parse(raw: str) -> tuple[str, ...]:
            return tuple(_target(item.strip()) for item in raw.split(",") if item.strip())

        return self._read(name, parse, 'a comma-separated list of E.164 numbers or ACS user ids ("8:acs:...")')

    def hours(self, name: str) -> str | None:
        return self._read(name, _business_hours, 'opening hours as "HH:MM-HH:MM" (24-hour clock)')

    def timezone(self, name: str) -> str | None:
        return self._read(name, _timezone, 'an IANA time zone name such as "Europe/London"')

    def table_name(self, name: str) -> str | None:
        return self._read(name, _table_name, "3-63 letters or digits, starting with a letter")

    def names(self, name: str) -> tuple[str, ...] | None:
        def parse(raw: str) -> tuple[str, ...]:
            items = tuple(item.strip() for item in raw.split(",") if item.strip())
            if not all(re.fullmatch(r"[a-z][a-z0-9-]{0,39}", item) for item in items):
                raise ValueError(raw)
            return items

        return self._read(name, parse, 'a comma-separated list of flow names such as "ivr,reminder"')

    def choice(self, name: str, options: tuple[str, ...]) -> str | None:
        def parse(raw: str) -> str:
            if raw not in options:
                raise ValueError(raw)
            return raw

        return self._read(name, parse, f"one of {', '.join(options)}")

    def traces_exporter(self, name: str) -> str | None:
        def parse(raw: str) -> str:
            if raw in TRACES_EXPORTERS or (raw.startswith("file:") and raw.removeprefix("file:").strip()):
                return raw
            raise ValueError(raw)

        return self._read(name, parse, f"one of {', '.join(TRACES_EXPORTERS)} or file:PATH")

    def media_url_allowlist(self, name: str) -> tuple[str, ...] | None:
        def parse(raw: str) -> tuple[str, ...]:
            items = tuple(item.strip() for item in raw.split(",") if item.strip())
            for item in items:
                if "://" in item:
                    _http_url(item)
                elif not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", item):
                    raise ValueError(item)
            return items

        return self._read(name, parse, "a comma-separated list of host names or http(s) URL prefixes")

    def websocket_url(self, name: str) -> str | None:
        return self._read(name, _websocket_url, "a ws:// or wss:// URL")

    def locale(self, name: str) -> str | None:
        def parse(raw: str) -> str:
            if not re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", raw):
                raise ValueError(raw)
            return raw

        return self._read(name, parse, 'a locale such as "en-US"')


def _http_url(raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(raw)
    return raw


def _websocket_url(raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in ("ws", "wss") or not parsed.netloc:
        raise ValueError(raw)
    return raw


def _base64(raw: str) -> str:
    try:
        base64.b64decode(raw, validate=True)
    except binascii.Error as exc:
        raise ValueError(raw) from exc
    return raw


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(raw)


def _phone_number(raw: str) -> str:
    if not E164.match(raw):
        raise ValueError(raw)
    return raw


def _target(raw: str) -> str:
    if not (E164.match(raw) or ACS_USER.match(raw)):
        raise ValueError(raw)
    return raw


def _ncrontab(raw: str) -> str:
    # The Functions timer trigger's format: {second} {minute} {hour} {day} {month} {day-of-week}.
    if len(raw.split()) != 6 or not re.fullmatch(r"[0-9*/,\-A-Za-z ]+", raw):
        raise ValueError(raw)
    return raw


def _business_hours(raw: str) -> str:
    opening, _, closing = raw.partition("-")
    if not (_CLOCK.match(opening) and _CLOCK.match(closing)):
        raise ValueError(raw)
    return raw


def _timezone(raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(raw) from exc
    return raw


def _table_name(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,62}", raw):
        raise ValueError(raw)
    return raw
