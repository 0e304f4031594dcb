"""Log hygiene: phone numbers are masked in every record, the Azure SDKs log warnings only, and call identifiers
travel with each line."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

# E.164 as "+" or URL-encoded "%2B" and 9-15 digits, inside a raw id ("4:+15551230199") or a request URL
# ("PartitionKey='%2B15551230199'") too.
_E164 = re.compile(r"(\+|%2[Bb])(\d{4})(\d{1,7})(\d{4})(?!\d)")
# The same number without its "+": 10-15 digits standing alone (not part of a GUID, a decimal or a longer word).
_BARE_NUMBER = re.compile(r"(?<![\w+%-])(?<!\d\.)(\d{4})(\d{2,7})(\d{4})(?![\w-]|\.\d)")
# The Azure SDKs log every HTTP request (URL with table keys, headers) at INFO.
_SDK_LOGGER = "azure"
# azure-communication-callautomation 1.6.0 hands TranscriptionOptions' optional speech_recognition_model_endpoint_id
# to a generated model that does not declare it, and that model's serializer warns on every call answered or placed
# with transcription options, set or not. The field is dropped either way, so the warning says nothing actionable.
_SDK_SERIALIZER_LOGGER = "azure.communication.callautomation._generated._utils.serialization"
_UNDECLARED_SDK_FIELD = "speech_recognition_model_endpoint_id is not a known attribute"
# Ids longer than this (recording ids are about 170 characters of base64) are shortened in log lines.
_LONG_ID = 24

_installed_factory: Callable[..., logging.LogRecord] | None = None


def mask(text: str) -> str:
    """Mask every phone number in text, keeping the country/area prefix and the last four digits.

    A timestamp or an id of 10-15 digits standing alone is masked too: a false positive costs a digit or two
    of a log line, a false negative a caller's number.
    """
    text = _E164.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(4)}", text)
    return _BARE_NUMBER.sub(lambda m: f"{m.group(1)}***{m.group(3)}", text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    text = str(value)
    masked = mask(text)
    return masked if masked != text else value


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask phone numbers in a record's message template and arguments, in place."""
    if isinstance(record.msg, str):
        record.msg = mask(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: _mask_value(value) for key, value in record.args.items()}
    elif record.args:
        record.args = tuple(_mask_value(arg) for arg in record.args)
    return record


def short_id(value: str) -> str:
    """A long opaque id (a recording id, a serverCallId) cut to its first 10 and last 6 characters for a log line."""
    return value if len(value) <= _LONG_ID else f"{value[:10]}...{value[-6:]}"


class _UndeclaredSdkFieldFilter(logging.Filter):
    """Drops the SDK serializer's warning about the one field the SDK itself passes undeclared (see above)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _UNDECLARED_SDK_FIELD not in record.getMessage()


class PhoneNumberMaskingFilter(logging.Filter):
    """A filter for handlers that do not go through the masking record factory."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_hygiene() -> None:
    """What the app does to logging at import: mask phone numbers everywhere, keep the SDKs at WARNING, and drop
    the one SDK warning every answered call would repeat.

    The SDKs' INFO request lines carry table keys (phone numbers, URL-encoded) and would flood Application
    Insights; a level set explicitly (e.g. to debug) is left alone.
    """
    install_phone_number_masking()
    sdk = logging.getLogger(_SDK_LOGGER)
    if sdk.level == logging.NOTSET:
        sdk.setLevel(logging.WARNING)
    serializer = logging.getLogger(_SDK_SERIALIZER_LOGGER)
    if not any(isinstance(known, _UndeclaredSdkFieldFilter) for known in serializer.filters):
        serializer.addFilter(_UndeclaredSdkFieldFilter())


def install_phone_number_masking() -> None:
    """Mask phone numbers in every record created in this process, whichever handler emits it.

    A record factory (rather than a filter on one logger) is used because logger filters do not apply
    to records propagated from child loggers, and the Functions worker owns the handlers.
    """
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return

    def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(current(*args, **kwargs))

    _installed_factory = masking_factory
    logging.setLogRecordFactory(masking_factory)


class CallLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger adapter that adds the call's identifiers to every record it emits."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


def call_logger(logger: logging.Logger, event: Any) -> CallLogger:
    """A CallLogger for one event: call_connection_id, correlation_id, event_id and operation_context."""
    return CallLogger(
        logger,
        {
            "call_connection_id": getattr(event, "call_connection_id", "") or "",
            "correlation_id": getattr(event, "correlation_id", "") or "",
            "event_id": getattr(event, "id", "") or "",
            "operation_context": getattr(event, "operation_context", "") or "",
        },
    )
