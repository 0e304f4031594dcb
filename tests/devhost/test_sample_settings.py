"""local.settings.sample.json points the app at `python -m emulator` with its defaults, so `func start` just works."""

import json
from pathlib import Path

from emulator.config import EmulatorConfig
from emulator.tokens import OPENID_PATH
from shared.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "local.settings.sample.json"


def sample_values() -> dict[str, str]:
    return json.loads(SAMPLE.read_text())["Values"]


def test_sample_talks_to_the_emulator_defaults() -> None:
    values, emulator = sample_values(), EmulatorConfig()
    assert values["ACS_ENDPOINT"] == emulator.base_url
    assert values["ACS_ACCESS_KEY"] == emulator.access_key
    assert values["CALLBACK_JWT_AUDIENCE"] == emulator.jwt_audience
    assert values["CALLBACK_JWT_ISSUER"] == emulator.jwt_issuer
    assert values["CALLBACK_OPENID_CONFIG_URL"] == emulator.base_url + OPENID_PATH
    assert values["HOLD_MUSIC_URL"].startswith(emulator.base_url + "/emulator/media/")


def test_sample_is_a_valid_app_configuration() -> None:
    settings = Settings.from_env({k: v for k, v in sample_values().items() if v != ""})
    assert settings.callback_auth_enabled
