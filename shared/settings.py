"""The app's settings: one frozen, typed object loaded from the environment and validated as a whole.

Each setting is declared once, as a field of Settings: its type, default, how its text is read (a Kind, whose
expectation names it in errors), what it means and what to set in Azure, in a feature group. The environment
variable is the field's name upper-cased; the settings tables in README.md, docs/app-flows.md and
docs/recording.md are generated from these declarations (scripts/settings_docs.py), and tests/infra checks
local.settings.sample.json and the Bicep app settings against them. Adding a setting is one field plus its use.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any
from urllib.parse import urlparse

from shared.errors import SettingsError
from shared.identifiers import ACS_USER, E164
from shared.media_urls import MediaUrlPolicy, storage_origins

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

CHANNELS = ("mixed", "unmixed")
RECORDING_CONTENTS = ("audio", "audioVideo")
RECORDING_FORMATS = ("wav", "mp3", "mp4")
# (content, channel, format) combinations ACS records; anything else fails at StartRecording (8557).
RECORDING_COMBINATIONS = {("audio", "mixed", "wav"), ("audio", "mixed", "mp3"), ("audio", "unmixed", "wav"),
                          ("audioVideo", "mixed", "mp4")}  # fmt: skip

DEFAULT_JWT_ISSUER = "https://acscallautomation.communication.azure.com"
DEFAULT_OPENID_CONFIG_URL = (
    "https://acscallautomation.communication.azure.com/calling/.well-known/acsopenidconfiguration"
)


@dataclass(frozen=True)
class Kind:
    """How a setting's text is read: `parse` raises ValueError on bad text; "NAME must be <expectation>"."""

    parse: Callable[[str], Any]
    expectation: str


@dataclass(frozen=True)
class Group:
    """A feature's settings: a title, what they are for, and the document whose settings table lists them."""

    title: str
    summary: str
    document: str


@dataclass(frozen=True)
class Setting:
    """What a Settings field declares besides its type and default."""

    group: Group
    kind: Kind
    meaning: str
    # What to set in Azure, where it is not simply the default.
    azure: str
    # Keys, connection strings and loopback access for the emulator and Azurite: never an app setting in Azure.
    local_only: bool
    # The value in local.settings.sample.json: the local stack's (emulator, Azurite); SAME_AS_DEFAULT otherwise.
    local: Any
    # Set by infra/app/function.bicep from what the infrastructure created (an endpoint, an identity, a table
    # name); every other Azure setting is the default, in infra/app/flow-settings.json.
    from_infrastructure: bool


_SETTING = "setting"
_REQUIRED: Any = object()
SAME_AS_DEFAULT: Any = object()
# The emulator's well-known development key and resource id (not secrets; tests/devhost keeps them in step).
EMULATOR_ACCESS_KEY = "YWNzLWVtdWxhdG9yLWxvY2FsLWRldmVsb3BtZW50LWtleQ=="
EMULATOR_RESOURCE_ID = "00000000-0000-4000-8000-00000000ac5e"


def setting(
    group: Group,
    kind: Kind,
    meaning: str,
    *,
    default: Any = _REQUIRED,
    azure: str = "",
    local_only: bool = False,
    local: Any = SAME_AS_DEFAULT,
    from_infrastructure: bool = False,
) -> Any:
    """A Settings field: its env variable is the field's name upper-cased; no default means it is required."""
    declared = Setting(
        group=group,
        kind=kind,
        meaning=meaning,
        azure=azure,
        local_only=local_only,
        local=local,
        from_infrastructure=from_infrastructure,
    )
    metadata = {_SETTING: declared}
    if default is _REQUIRED:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


def env_name(field_name: str) -> str:
    return field_name.upper()


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


def _matching(pattern: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not re.fullmatch(pattern, raw):
            raise ValueError(raw)
        return raw

    return parse


def _phone_number(raw: str) -> str:
    if not E164.match(raw):
        raise ValueError(raw)
    return raw


def _target(raw: str) -> str:
    if not (E164.match(raw) or ACS_USER.match(raw)):
        raise ValueError(raw)
    return raw


def _items(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _targets(raw: str) -> tuple[str, ...]:
    return tuple(_target(item) for item in _items(raw))


def _flow_names(raw: str) -> tuple[str, ...]:
    items = _items(raw)
    if not all(re.fullmatch(r"[a-z][a-z0-9-]{0,39}", item) for item in items):
        raise ValueError(raw)
    return items


def _media_url_allowlist(raw: str) -> tuple[str, ...]:
    items = _items(raw)
    for item in items:
        if "://" in item:
            _http_url(item)
        elif not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", item):
            raise ValueError(item)
    return items


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


def integer(minimum: int, maximum: int) -> Kind:
    def parse(raw: str) -> int:
        value = int(raw)
        if not minimum <= value <= maximum:
            raise ValueError(raw)
        return value

    return Kind(parse, f"an integer from {minimum} to {maximum}")


def number(minimum: float, maximum: float) -> Kind:
    def parse(raw: str) -> float:
        value = float(raw)
        if not minimum <= value <= maximum:
            raise ValueError(raw)
        return value

    return Kind(parse, f"a number from {minimum:g} to {maximum:g}")


TRACES_EXPORTERS = ("none", "console", "azure-monitor")


def _traces_exporter(raw: str) -> str:
    if raw in TRACES_EXPORTERS or (raw.startswith("file:") and raw.removeprefix("file:").strip()):
        return raw
    raise ValueError(raw)


def choice(options: tuple[str, ...]) -> Kind:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(raw)
        return raw

    return Kind(parse, f"one of {', '.join(options)}")


TEXT = Kind(str, "text")
URL = Kind(_http_url, "an http(s) URL")
WEBSOCKET_URL = Kind(_websocket_url, "a ws:// or wss:// URL")
BASE64 = Kind(_base64, "base64 (the ACS access key)")
BOOLEAN = Kind(_boolean, "true or false")
PHONE_NUMBER = Kind(_phone_number, "an E.164 phone number such as +15551230199")
TARGET = Kind(_target, 'an E.164 phone number or an ACS user id ("8:acs:...")')
TARGETS = Kind(_targets, 'a comma-separated list of E.164 numbers or ACS user ids ("8:acs:...")')
HOURS = Kind(_business_hours, 'opening hours as "HH:MM-HH:MM" (24-hour clock)')
TIMEZONE = Kind(_timezone, 'an IANA time zone name such as "Europe/London"')
TABLE_NAME = Kind(_matching(r"[A-Za-z][A-Za-z0-9]{2,62}"), "3-63 letters or digits, starting with a letter")
FLOW_NAMES = Kind(_flow_names, 'a comma-separated list of flow names such as "ivr,reminder"')
SCHEDULE = Kind(_ncrontab, 'a six-field NCRONTAB schedule such as "0 */1 * * * *"')
MEDIA_URL_ALLOWLIST = Kind(_media_url_allowlist, "a comma-separated list of host names or http(s) URL prefixes")
LOCALE = Kind(_matching(r"[a-z]{2,3}-[A-Z]{2}"), 'a locale such as "en-US"')
TRACES = Kind(_traces_exporter, f"one of {', '.join(TRACES_EXPORTERS)} or file:PATH")

APP_FLOWS = "docs/app-flows.md"
RECORDING_DOC = "docs/recording.md"

ACS = Group("ACS", "the ACS resource, how the app signs in to it, and its AI services", APP_FLOWS)
CALLBACKS = Group("Callbacks", "where ACS posts events, and how their JWTs are checked", APP_FLOWS)
STORAGE = Group("Storage", "Table Storage and the app's tables", APP_FLOWS)
ROUTING = Group("Routing", "incoming-call defaults for numbers whose rule leaves them empty", APP_FLOWS)
IVR = Group("IVR", "voice, prompts, retries and timeouts of the IVR", APP_FLOWS)
AGENT = Group("Agent and media", "who 'talk to an agent' rings, the hold music, where audio may come from", APP_FLOWS)
OUTBOUND = Group("Outbound, reminders, masking", "calls the app places: caller id, reminder prompts", APP_FLOWS)
DELIVERY = Group("Exactly once", "leases, the watchdog and how long ended calls are kept", APP_FLOWS)
TRACING = Group("Traces", "where each invocation's OpenTelemetry trace goes", APP_FLOWS)
PAYMENT = Group("Pay a bill", "the card-number prompts, while the recording is paused", RECORDING_DOC)
RECORDING = Group("Recording", "which flows are recorded, how, and into which Blob container", RECORDING_DOC)
STREAMING = Group("Streaming and transcription", "the WebSocket receiver, and the flows streamed to it", RECORDING_DOC)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting the app reads; the env variable of each is its name upper-cased."""

    acs_endpoint: str | None = setting(
        ACS,
        URL,
        "ACS endpoint; on its own = managed identity",
        default=None,
        azure="`https://<acs>.communication.azure.com`",
        local="http://127.0.0.1:8765",
        from_infrastructure=True,
    )
    acs_access_key: str | None = setting(
        ACS,
        BASE64,
        "access key (HMAC), with `ACS_ENDPOINT`; keeps `http://`",
        default=None,
        local_only=True,
        local=EMULATOR_ACCESS_KEY,
    )
    acs_connection_string: str | None = setting(
        ACS, TEXT, "alternative to the two above; forces https", default=None, local_only=True
    )
    azure_client_id: str | None = setting(
        ACS,
        TEXT,
        "user-assigned identity for ACS and Storage",
        default=None,
        azure="the identity's client id",
        from_infrastructure=True,
    )
    acs_tls_ca_bundle: str | None = setting(
        ACS, TEXT, "CA file when the emulator serves TLS (ACS client and JWKS fetch)", default=None, local_only=True
    )
    # Whether the SDK clients read proxy variables and .netrc (aiohttp trust_env); false skips that per request.
    http_use_env_settings: bool = setting(
        ACS,
        BOOLEAN,
        "the ACS and Table clients honour `HTTP(S)_PROXY`/`NO_PROXY`, read once as the clients are built "
        "(shared/transport.py); `false` ignores them",
        default=True,
        azure="`false` (Functions sets no proxy variables); `true` behind a proxy",
        local=False,
        from_infrastructure=True,
    )
    cognitive_services_endpoint: str | None = setting(
        ACS,
        URL,
        "Azure AI services for TTS and speech recognition, passed on answer and create",
        default=None,
        azure="`https://<ai>.cognitiveservices.azure.com/`",
        local="https://local-emulator.cognitiveservices.azure.com/",
        from_infrastructure=True,
    )

    callback_base_url: str = setting(
        CALLBACKS,
        URL,
        "public base URL; callbacks go to `{base}/api/callbacks`",
        azure="`https://<app>.azurewebsites.net`",
        local="http://127.0.0.1:7071",
        from_infrastructure=True,
    )
    callback_auth_enabled: bool = setting(
        CALLBACKS, BOOLEAN, "verify callback JWTs", default=True, from_infrastructure=True
    )
    callback_jwt_audience: str | None = setting(
        CALLBACKS,
        TEXT,
        "the ACS resource's immutable id (required while auth is on)",
        default=None,
        azure="the resource's immutable id",
        local=EMULATOR_RESOURCE_ID,
        from_infrastructure=True,
    )
    callback_jwt_issuer: str = setting(
        CALLBACKS, TEXT, "expected `iss` of callback tokens", default=DEFAULT_JWT_ISSUER, from_infrastructure=True
    )
    callback_openid_config_url: str = setting(
        CALLBACKS,
        URL,
        "OpenID configuration with the `jwks_uri` of the token keys",
        default=DEFAULT_OPENID_CONFIG_URL,
        local="http://127.0.0.1:8765/calling/.well-known/acsopenidconfiguration",
        from_infrastructure=True,
    )
    # ACS tokens live 5 minutes (contract §5); a token whose exp is further from its iat (or from now) is refused.
    callback_jwt_max_lifetime_seconds: int = setting(
        CALLBACKS,
        integer(60, 3600),
        "longest accepted token lifetime, `exp - iat` (ACS issues 5-minute tokens)",
        default=600,
        from_infrastructure=True,
    )

    storage_connection_string: str | None = setting(
        STORAGE,
        TEXT,
        "Table Storage by connection string (`UseDevelopmentStorage=true` = Azurite)",
        default=None,
        local_only=True,
        local="UseDevelopmentStorage=true",
    )
    storage_table_endpoint: str | None = setting(
        STORAGE,
        URL,
        "table endpoint, with the managed identity",
        default=None,
        azure="`https://<st>.table.core.windows.net`",
        from_infrastructure=True,
    )
    state_table_name: str = setting(
        STORAGE, TABLE_NAME, "calls' state, markers and outboxes", default="callstate", from_infrastructure=True
    )
    routing_table_name: str = setting(
        STORAGE, TABLE_NAME, "routing rules per called number", default="routingrules", from_infrastructure=True
    )
    orders_table_name: str = setting(
        STORAGE, TABLE_NAME, "orders the IVR reads back", default="orders", from_infrastructure=True
    )
    reminders_table_name: str = setting(
        STORAGE, TABLE_NAME, "reminder rows", default="reminders", from_infrastructure=True
    )
    pairings_table_name: str = setting(
        STORAGE, TABLE_NAME, "masking pairings", default="proxypairings", from_infrastructure=True
    )

    routing_default_flow: str = setting(ROUTING, TEXT, "flow for numbers without a rule", default="ivr")
    routing_blocked_callers: tuple[str, ...] = setting(
        ROUTING, TARGETS, "callers rejected as forbidden", default=(), azure="as needed"
    )
    routing_business_hours: str | None = setting(
        ROUTING, HOURS, "default opening hours; empty = always open", default=None, azure="e.g. `08:00-18:00`"
    )
    routing_timezone: str = setting(ROUTING, TIMEZONE, "time zone of the hours", default="UTC")
    routing_after_hours_target: str | None = setting(
        ROUTING, TARGET, "where calls go after hours; empty = answer anyway", default=None, azure="as needed"
    )

    ivr_locale: str = setting(IVR, TEXT, "TTS locale", default="en-US")
    ivr_voice_name: str = setting(IVR, TEXT, "TTS voice", default="en-US-JennyNeural")
    ivr_greeting_audio_url: str | None = setting(
        IVR, URL, "greeting audio file; empty = TTS of `IVR_GREETING_TEXT`", default=None, azure="a blob URL"
    )
    ivr_greeting_text: str = setting(IVR, TEXT, "greeting", default="Thank you for calling Contoso.")
    ivr_menu_prompt: str = setting(
        IVR,
        TEXT,
        "main menu",
        default="For the status of an order, press 1 or say order status. To talk to an agent, press 2 or say "
        "agent. To pay a bill, press 3 or say pay a bill.",
    )
    ivr_order_number_prompt: str = setting(
        IVR, TEXT, "asks for the order number", default="Please key in your order number, followed by the pound key."
    )
    ivr_order_status_prompt: str = setting(
        IVR, TEXT, "reads the status (`{order_number}`, `{status}`)", default="Order {order_number} is {status}."
    )
    ivr_order_not_found_prompt: str = setting(
        IVR, TEXT, "unknown order (`{order_number}`)", default="Sorry, we could not find order {order_number}."
    )
    ivr_hold_prompt: str = setting(
        IVR,
        TEXT,
        "while the agent is invited, when there is no hold music",
        default="Please hold while we connect you to an agent.",
    )
    ivr_no_input_prompt: str = setting(IVR, TEXT, "no input or no match", default="Sorry, I didn't catch that.")
    ivr_goodbye_prompt: str = setting(IVR, TEXT, "goodbye", default="Thank you for calling. Goodbye.")
    ivr_agent_unavailable_prompt: str = setting(
        IVR,
        TEXT,
        "nobody answered",
        default="Sorry, no agent is available right now. Please call again later. Goodbye.",
    )
    ivr_max_retries: int = setting(IVR, integer(1, 10), "failed inputs tolerated per step before goodbye", default=3)
    ivr_input_timeout_seconds: int = setting(IVR, integer(1, 20), "initial silence and inter-digit timeout", default=5)
    ivr_order_number_max_digits: int = setting(IVR, integer(1, 30), "longest order number", default=10)

    agent_target: str | None = setting(
        AGENT,
        TARGET,
        "who 'talk to an agent' rings; empty = apology",
        default=None,
        azure="your agent line",
        local=f"8:acs:{EMULATOR_RESOURCE_ID}_0000000a-9e17-4000-8000-000000000001",
    )
    agent_caller_id: str | None = setting(
        AGENT,
        PHONE_NUMBER,
        "caller id when the agent is a phone number",
        default=None,
        azure="an ACS number you own",
        local="+18005550100",
    )
    agent_invitation_timeout_seconds: int = setting(AGENT, integer(1, 180), "ring time for the agent", default=30)
    hold_music_url: str | None = setting(
        AGENT,
        URL,
        "looped while the agent is invited; empty = TTS `IVR_HOLD_PROMPT`",
        default=None,
        azure="a blob URL",
        local="http://127.0.0.1:8765/emulator/media/hold-music.wav",
    )
    # Where ACS may fetch audio from (shared/media_urls.py); the app's own storage account is always allowed.
    media_url_allowlist: tuple[str, ...] = setting(
        AGENT,
        MEDIA_URL_ALLOWLIST,
        "host names (`media.contoso.com`) or URL prefixes (`https://cdn.contoso.com/audio/`) ACS may fetch audio "
        "from: the API's `audioUrl`s, `HOLD_MUSIC_URL`, `IVR_GREETING_AUDIO_URL`; the app's own storage account is "
        "always on it",
        default=(),
        azure="your media hosts",
        local=("http://127.0.0.1:8765/emulator/media/",),
    )
    media_url_allow_local: bool = setting(
        AGENT,
        BOOLEAN,
        "let audio URLs point at loopback, link-local or private hosts (local development)",
        default=False,
        local_only=True,
        local=True,
    )

    outbound_caller_id: str | None = setting(
        OUTBOUND,
        PHONE_NUMBER,
        "caller id for calls to phone numbers when the request gives none",
        default=None,
        azure="an ACS number you own",
        local="+18005550100",
    )
    reminder_prompt: str = setting(
        OUTBOUND,
        TEXT,
        "the reminder (`{name}`, `{when}`)",
        default="Hello {name}, this is a reminder of your appointment on {when}. Press 1 or say confirm to "
        "confirm, 2 or say cancel to cancel, 3 or say reschedule to reschedule.",
    )
    reminder_confirmed_prompt: str = setting(
        OUTBOUND, TEXT, "confirmed", default="Thank you, your appointment is confirmed. Goodbye."
    )
    reminder_cancelled_prompt: str = setting(
        OUTBOUND, TEXT, "cancelled", default="Your appointment has been cancelled. Goodbye."
    )
    reminder_reschedule_prompt: str = setting(
        OUTBOUND, TEXT, "reschedule requested", default="We will call you back to find a new time. Goodbye."
    )
    reminder_no_response_prompt: str = setting(
        OUTBOUND,
        TEXT,
        "no answer after the retries",
        default="We did not get your answer. We will try again later. Goodbye.",
    )
    reminder_max_retries: int = setting(
        OUTBOUND, integer(1, 10), "failed answers tolerated before the outcome `no-response`", default=2
    )
    masking_invitation_timeout_seconds: int = setting(
        OUTBOUND, integer(1, 180), "ring time for the masked peer", default=30
    )

    ivr_card_number_prompt: str = setting(
        PAYMENT,
        TEXT,
        "asks for the card number",
        default="Please key in your 16-digit card number, followed by the pound key.",
    )
    ivr_card_accepted_prompt: str = setting(
        PAYMENT,
        TEXT,
        "card accepted (`{last4}`)",
        default="Thank you. The card ending in {last4} has been accepted.",
    )
    ivr_card_invalid_prompt: str = setting(
        PAYMENT, TEXT, "card refused", default="Sorry, that card number is not valid."
    )

    recording_enabled_flows: tuple[str, ...] = setting(
        RECORDING,
        FLOW_NAMES,
        "flows whose calls are recorded from connect to end",
        default=(),
        azure="empty (off) or `ivr`",
        local=("ivr",),
    )
    recording_content: str = setting(RECORDING, choice(RECORDING_CONTENTS), "what is recorded", default="audio")
    recording_channel: str = setting(
        RECORDING, choice(CHANNELS), "one track, or one channel per participant", default="mixed"
    )
    recording_format: str = setting(
        RECORDING,
        choice(RECORDING_FORMATS),
        "`wav` or `mp3` (mixed audio), `wav` (unmixed), `mp4` (audioVideo); other combinations are refused at startup",
        default="wav",
    )
    recording_pause_on_start: bool = setting(
        RECORDING, BOOLEAN, "start paused; an agent resumes with the API", default=False
    )
    recording_caller_channel: int | None = setting(
        RECORDING,
        integer(0, 4),
        "unmixed only: the caller's channel, so QA tools find them on the same channel every time",
        default=None,
    )
    recording_container_url: str | None = setting(
        RECORDING,
        URL,
        "bring-your-own-storage container; empty = ACS keeps the files (download within 24 h)",
        default=None,
        azure="`https://<st>.blob.core.windows.net/recordings`",
        local="http://127.0.0.1:10000/devstoreaccount1/recordings",
        from_infrastructure=True,
    )
    recordings_table_name: str = setting(
        RECORDING, TABLE_NAME, "the recordings index", default="recordings", from_infrastructure=True
    )

    # Media streaming and transcription go to the WebSocket receiver (receiver/), which stores transcripts.
    receiver_websocket_url: str | None = setting(
        STREAMING,
        WEBSOCKET_URL,
        "the receiver's WebSocket URL; set = every call is answered with streaming and transcription options",
        default=None,
        azure="`wss://<receiver-host>/ws`",
        local="ws://127.0.0.1:8766/ws",
        from_infrastructure=True,
    )
    receiver_token: str | None = setting(
        STREAMING,
        TEXT,
        "shared secret sent to the receiver as `?token=`; must equal the receiver's",
        default=None,
        azure="generated by azd, set on both sides",
        from_infrastructure=True,
    )
    media_streaming_enabled_flows: tuple[str, ...] = setting(
        STREAMING, FLOW_NAMES, "flows whose audio streams from connect", default=()
    )
    media_streaming_audio_channel: str = setting(
        STREAMING, choice(CHANNELS), "one stream, or one frame per participant", default="mixed"
    )
    transcription_enabled_flows: tuple[str, ...] = setting(
        STREAMING, FLOW_NAMES, "flows transcribed from connect", default=(), azure="as needed"
    )
    transcription_locale: str = setting(STREAMING, LOCALE, "transcription language", default="en-US")
    transcripts_table_name: str = setting(
        STREAMING,
        TABLE_NAME,
        "transcript lines (the app reads it, the receiver writes it)",
        default="transcripts",
        from_infrastructure=True,
    )

    traces_exporter: str = setting(
        TRACING,
        TRACES,
        "one trace per invocation (shared/tracing.py): `none`, `console`, `file:PATH` (OTLP JSON lines) or "
        "`azure-monitor` (Application Insights, through the app's identity)",
        default="none",
        azure="`azure-monitor`",
        from_infrastructure=True,
    )

    # Exactly once under faults (docs/app-flows.md "Delivery semantics"): how long a claim's lease lasts, when the
    # watchdog runs and how long each step may wait before it recovers the call, and how long ended calls are kept.
    claim_lease_seconds: float = setting(
        DELIVERY,
        number(1, 600),
        "how long a claim's sender may take to send its actions; a copy of the event arriving meanwhile does nothing",
        default=30.0,
    )
    watchdog_schedule: str = setting(
        DELIVERY,
        SCHEDULE,
        "when the watchdog runs (NCRONTAB with seconds)",
        default="0 */1 * * * *",
        local="*/5 * * * * *",
    )
    watchdog_grace_seconds: float = setting(
        DELIVERY, number(0, 3600), "added to each step's own longest wait before it counts as overdue", default=30.0
    )
    watchdog_idle_seconds: float = setting(
        DELIVERY,
        number(1, 86400),
        "how often a step with nothing to wait for (caller and agent talking) is checked with ACS",
        default=600.0,
    )
    watchdog_audio_seconds: float = setting(
        DELIVERY, number(0, 3600), "how long an audio-file prompt is taken to play", default=30.0
    )
    watchdog_time_scale: float = setting(
        DELIVERY,
        number(0.001, 1),
        "multiplies the steps' own waits; the local stack sets the emulator's time scale",
        default=1.0,
    )
    state_retention_hours: float = setting(
        DELIVERY,
        number(0.01, 8760),
        "ended calls' state, markers and IncomingCall records are deleted after this",
        default=72.0,
    )

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
        values: dict[str, Any] = {}
        problems: list[str] = []
        for item, declared in declarations():
            name = env_name(item.name)
            default = None if item.default is MISSING else item.default
            raw = environ.get(name, "").strip()
            values[item.name] = default
            if not raw:
                if item.default is MISSING:
                    problems.append(f"{name} is missing")
                continue
            try:
                values[item.name] = declared.kind.parse(raw)
            except ValueError:
                problems.append(f"{name} must be {declared.kind.expectation}")
        _check_combinations(values, problems)
        if problems:
            raise SettingsError("Invalid settings: " + "; ".join(problems))
        return cls(**values)


def declarations() -> Iterator[tuple[Field[Any], Setting]]:
    """Every field of Settings with its declaration, in declaration order."""
    for item in fields(Settings):
        yield item, item.metadata[_SETTING]


def _check_combinations(values: dict[str, Any], problems: list[str]) -> None:
    """Rules that involve more than one setting."""
    if not values["acs_connection_string"] and not values["acs_endpoint"]:
        problems.append("ACS_ENDPOINT is missing (or set ACS_CONNECTION_STRING)")
    if not values["storage_connection_string"] and not values["storage_table_endpoint"]:
        problems.append("STORAGE_CONNECTION_STRING is missing (or set STORAGE_TABLE_ENDPOINT)")
    if values["callback_auth_enabled"] and not values["callback_jwt_audience"]:
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
    for name in ("hold_music_url", "ivr_greeting_audio_url"):
        url = values[name]
        if url and (reason := policy.refusal(url)):
            problems.append(f"{env_name(name)} {reason}")


def _media_url_policy(values: Mapping[str, Any]) -> MediaUrlPolicy:
    own = storage_origins(values["recording_container_url"], values["storage_table_endpoint"])
    return MediaUrlPolicy(
        allowed=(*values["media_url_allowlist"], *own), allow_local=bool(values["media_url_allow_local"])
    )


def _check_recording(values: dict[str, Any], problems: list[str]) -> None:
    content, channel, format_ = values["recording_content"], values["recording_channel"], values["recording_format"]
    if (content, channel, format_) not in RECORDING_COMBINATIONS:
        problems.append(
            f"RECORDING_FORMAT {format_} cannot record {channel} {content} "
            "(mixed audio: wav or mp3; unmixed audio: wav; audioVideo: mixed mp4)"
        )
    if values["recording_caller_channel"] is not None and channel != "unmixed":
        problems.append("RECORDING_CALLER_CHANNEL needs RECORDING_CHANNEL=unmixed (mixed recordings have one channel)")
