"""Settings of recording, streaming and transcription: parsed, defaulted, and refused with one clear message."""

import pytest

from shared.errors import SettingsError
from shared.settings import Settings
from shared.streaming import call_streaming, transport_url
from tests.fixtures.fakes import settings

BASE = {
    "ACS_ENDPOINT": "http://127.0.0.1:8765",
    "CALLBACK_BASE_URL": "http://127.0.0.1:7071",
    "CALLBACK_AUTH_ENABLED": "false",
    "STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
}


def test_recording_and_streaming_settings_are_read():
    loaded = Settings.from_env(
        {
            **BASE,
            "RECORDING_ENABLED_FLOWS": "ivr, reminder",
            "RECORDING_CHANNEL": "unmixed",
            "RECORDING_CALLER_CHANNEL": "0",
            "RECORDING_PAUSE_ON_START": "true",
            "RECORDING_CONTAINER_URL": "http://127.0.0.1:10000/devstoreaccount1/recordings",
            "RECEIVER_WEBSOCKET_URL": "wss://receiver.example/ws",
            "TRANSCRIPTION_ENABLED_FLOWS": "ivr",
            "TRANSCRIPTION_LOCALE": "fr-FR",
        }
    )

    assert loaded.recording_enabled_flows == ("ivr", "reminder")
    assert (loaded.recording_channel, loaded.recording_format, loaded.recording_caller_channel) == ("unmixed", "wav", 0)
    assert loaded.recording_pause_on_start is True and loaded.transcription_locale == "fr-FR"


def test_defaults_record_nothing_and_stream_nowhere():
    loaded = Settings.from_env(BASE)

    assert loaded.recording_enabled_flows == () and loaded.receiver_websocket_url is None
    assert (loaded.recording_content, loaded.recording_channel, loaded.recording_format) == ("audio", "mixed", "wav")
    assert call_streaming("ivr", loaded) is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"RECORDING_CHANNEL": "unmixed", "RECORDING_FORMAT": "mp3"},
            "RECORDING_FORMAT mp3 cannot record unmixed audio",
        ),
        ({"RECORDING_CALLER_CHANNEL": "1"}, "RECORDING_CALLER_CHANNEL needs RECORDING_CHANNEL=unmixed"),
        ({"RECORDING_CALLER_CHANNEL": "7"}, "RECORDING_CALLER_CHANNEL must be an integer from 0 to 4"),
        ({"RECORDING_CONTENT": "video"}, "RECORDING_CONTENT must be one of audio, audioVideo"),
        ({"RECORDING_ENABLED_FLOWS": "IVR!"}, "RECORDING_ENABLED_FLOWS must be a comma-separated list of flow names"),
        (
            {"RECEIVER_WEBSOCKET_URL": "https://receiver.example"},
            "RECEIVER_WEBSOCKET_URL must be a ws:// or wss:// URL",
        ),
        ({"TRANSCRIPTION_ENABLED_FLOWS": "ivr"}, "RECEIVER_WEBSOCKET_URL is missing"),
        ({"TRANSCRIPTION_LOCALE": "english"}, 'TRANSCRIPTION_LOCALE must be a locale such as "en-US"'),
    ],
)
def test_bad_settings_are_named(values, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**BASE, **values})


def test_the_token_joins_the_receiver_url_query():
    configured = settings(receiver_websocket_url="wss://receiver.example/ws?region=eu", receiver_token="a b&c")

    assert transport_url(configured) == "wss://receiver.example/ws?region=eu&token=a+b%26c"
    assert transport_url(settings(receiver_websocket_url="ws://127.0.0.1:8766/ws")) == "ws://127.0.0.1:8766/ws"
