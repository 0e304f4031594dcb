"""The finished recording: a WAV and its acsmetadata JSON, written to the app's Blob container or kept in memory."""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import ContainerClient

from ..audio import mix_timeline
from .session import Recording, interval_models

# Azurite's well-known development account, published in its README; not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# Longer recordings are time-compressed into this many seconds of WAV so files (and tests) stay small.
MAX_WAV_SECONDS = 60.0
TONE_HZ = 440.0
# Chunk file names as observed in real bring-your-own-storage containers (chunk 0 only: the emulator never splits).
AUDIO_BLOB = "0-audiowav.wav"
METADATA_BLOB = "0-acsmetadata.json"


class StorageError(Exception):
    """The recording could not be written to the app's container."""


def render_wav(recording: Recording) -> bytes:
    """PCM16 mono 16 kHz: a tone while recording was active, silence while paused."""
    squeeze = wav_squeeze(recording)
    spans = [(start * squeeze, end * squeeze) for start, end in recording.active_intervals()]
    return mix_timeline(recording.length_seconds() * squeeze, spans, TONE_HZ)


def wav_squeeze(recording: Recording) -> float:
    """How much the WAV's timeline is compressed relative to the recording's (1.0 below MAX_WAV_SECONDS)."""
    length = recording.length_seconds()
    return min(1.0, MAX_WAV_SECONDS / length) if length > 0 else 1.0


def acs_metadata(recording: Recording, resource_id: str, document_id: str) -> dict[str, Any]:
    """The recording metadata document in the real acsmetadata schema, plus an `emulator` object of extras."""
    options = recording.options
    started = datetime.fromisoformat(recording.start_time)
    participants: list[dict[str, Any]] = [{"participantId": raw_id} for raw_id in recording.participants]
    if options.channel_type == "unmixed":
        for entry in participants:
            entry["channel"] = recording.channel_of(entry["participantId"])
    return {
        "resourceId": resource_id,
        "callId": recording.call.correlation_id,
        "chunkDocumentId": document_id,
        "chunkIndex": 0,
        "chunkStartTime": iso_z(started),
        "chunkDuration": round(recording.length_seconds() * 1000),
        "pauseResumeIntervals": [
            {
                "startTime": iso_z(started + timedelta(seconds=start * recording.clock.scale)),
                "duration": round((end - start) * 1000),
            }
            for start, end in recording.paused_intervals()
        ],
        "recordingInfo": {
            "contentType": options.content_type,
            "channelType": options.channel_type,
            "format": options.format_type,
            "audioConfiguration": {"sampleRate": "16000", "bitRate": 256000, "channels": 1},
        },
        "participants": participants,
        "emulator": {
            "serverCallId": recording.call.server_call_id,
            "recordingId": recording.recording_id,
            "activeIntervals": interval_models(recording.active_intervals()),
            "pausedIntervals": interval_models(recording.paused_intervals()),
            "wavTimeScale": wav_squeeze(recording),
            "endReason": recording.end_reason,
        },
    }


def iso_z(moment: datetime) -> str:
    """ISO-8601 with seven fractional digits and Z, as Event Grid payloads write times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def blob_folder(recording: Recording) -> str:
    """`{yyyymmdd}/{callId}/{recordingId}`: the real layout's date and recording folders; callId is the call's
    correlation id (what acsmetadata calls callId), path-safe unlike base64 serverCallIds."""
    return f"{recording.start_time[:10].replace('-', '')}/{recording.call.correlation_id}/{recording.recording_id}"


def account_name(container_url: str) -> str:
    """Storage account of a container URL: path-style for IP/localhost hosts (Azurite), else the first host label."""
    parts = urlsplit(container_url)
    host = parts.hostname or ""
    if host == "localhost" or _is_ip(host):
        return parts.path.strip("/").split("/", 1)[0]
    return host.split(".", 1)[0]


def credential_for(container_url: str, account_key: str | None) -> dict[str, str] | None:
    """Shared-key credential: Azurite's public key for devstoreaccount1, else --recording-storage-key; none for SAS."""
    if urlsplit(container_url).query:
        return None
    account = account_name(container_url)
    if account == AZURITE_ACCOUNT:
        return {"account_name": account, "account_key": AZURITE_KEY}
    if account_key:
        return {"account_name": account, "account_key": account_key}
    return None


async def upload(
    container_url: str, account_key: str | None, wav: bytes, metadata: dict[str, Any], folder: str
) -> tuple[str, str]:
    """Write the WAV and metadata blobs; returns their URLs. The container must exist, as with real BYOS."""
    blobs = (
        (AUDIO_BLOB, wav, "audio/wav"),
        (METADATA_BLOB, json.dumps(metadata, indent=2).encode(), "application/json"),
    )
    urls = []
    try:
        async with ContainerClient.from_container_url(
            container_url, credential=credential_for(container_url, account_key)
        ) as container:
            for name, data, content_type in blobs:
                blob = await container.upload_blob(
                    f"{folder}/{name}",
                    data,
                    overwrite=True,
                    content_settings=ContentSettings(content_type=content_type),
                )
                urls.append(blob.url)
    except (AzureError, ValueError) as error:
        raise StorageError(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from error
    return urls[0], urls[1]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
