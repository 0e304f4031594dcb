"""Settings.from_env: typed values, defaults, and one error naming every problem."""

import pytest

from shared.errors import SettingsError
from shared.settings import Settings

MINIMAL = {
    "ACS_ENDPOINT": "http://127.0.0.1:8090",
    "ACS_ACCESS_KEY": "a2V5",
    "CALLBACK_BASE_URL": "https://app.example/",
    "CALLBACK_JWT_AUDIENCE": "resource-id",
    "STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
}


def test_minimal_environment_loads_with_defaults():
    settings = Settings.from_env(MINIMAL)
    assert settings.callback_url == "https://app.example/api/callbacks"
    assert settings.acs_auth == "access_key"
    assert settings.callback_auth_enabled is True
    assert settings.ivr_max_retries == 3
    assert settings.callback_openid_config_url.endswith("/calling/.well-known/acsopenidconfiguration")


def test_every_problem_is_named_in_one_error():
    env = {"CALLBACK_BASE_URL": "ftp://nowhere", "IVR_MAX_RETRIES": "many", "ROUTING_BLOCKED_CALLERS": "+1555,bob"}
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    message = str(error.value)
    assert message.startswith("Invalid settings: ")
    for expected in (
        "CALLBACK_BASE_URL must be an http(s) URL",
        "IVR_MAX_RETRIES must be an integer",
        "ROUTING_BLOCKED_CALLERS must be",
        "ACS_ENDPOINT is missing",
        "STORAGE_CONNECTION_STRING is missing",
        "CALLBACK_JWT_AUDIENCE is missing",
    ):
        assert expected in message


def test_sdk_clients_honour_proxy_variables_unless_told_not_to():
    assert Settings.from_env(MINIMAL).http_use_env_settings is True
    assert Settings.from_env({**MINIMAL, "HTTP_USE_ENV_SETTINGS": "false"}).http_use_env_settings is False
    with pytest.raises(SettingsError, match="HTTP_USE_ENV_SETTINGS must be true or false"):
        Settings.from_env({**MINIMAL, "HTTP_USE_ENV_SETTINGS": "maybe"})


def test_endpoint_alone_means_managed_identity():
    settings = Settings.from_env({**MINIMAL, "ACS_ACCESS_KEY": "", "AZURE_CLIENT_ID": "client"})
    assert settings.acs_auth == "managed_identity"


def test_access_key_must_be_base64():
    with pytest.raises(SettingsError, match="ACS_ACCESS_KEY must be base64"):
        Settings.from_env({**MINIMAL, "ACS_ACCESS_KEY": "not base64!"})


def test_auth_can_be_disabled_without_an_audience():
    settings = Settings.from_env({**MINIMAL, "CALLBACK_AUTH_ENABLED": "false", "CALLBACK_JWT_AUDIENCE": ""})
    assert settings.callback_auth_enabled is False


def test_business_hours_and_time_zone_are_validated():
    with pytest.raises(SettingsError) as error:
        Settings.from_env({**MINIMAL, "ROUTING_BUSINESS_HOURS": "9-5", "ROUTING_TIMEZONE": "Mars/Olympus"})
    assert "ROUTING_BUSINESS_HOURS" in str(error.value) and "ROUTING_TIMEZONE" in str(error.value)


def test_sample_settings_file_lists_every_setting_and_loads():
    import json
    from dataclasses import fields
    from pathlib import Path

    values = json.loads((Path(__file__).parents[2] / "local.settings.sample.json").read_text())["Values"]
    assert {f.name.upper() for f in fields(Settings)} <= set(values)
    Settings.from_env(values)


def test_media_urls_in_settings_obey_the_media_url_policy():
    """Finding 5: HOLD_MUSIC_URL and IVR_GREETING_AUDIO_URL are fetched by ACS like any audioUrl."""
    env = {
        **MINIMAL,
        "HOLD_MUSIC_URL": "http://169.254.169.254/latest/",
        "IVR_GREETING_AUDIO_URL": "https://x.example/",
    }
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    assert "HOLD_MUSIC_URL points at a loopback, link-local or private address" in str(error.value)
    assert "IVR_GREETING_AUDIO_URL is not on MEDIA_URL_ALLOWLIST" in str(error.value)

    allowed = Settings.from_env(
        {**env, "HOLD_MUSIC_URL": "https://x.example/m.wav", "MEDIA_URL_ALLOWLIST": "x.example"}
    )
    assert allowed.media_url_policy.refusal("https://x.example/m.wav") is None


def test_the_apps_own_storage_account_is_on_the_media_allow_list():
    settings = Settings.from_env({**MINIMAL, "RECORDING_CONTAINER_URL": "https://acct.blob.core.windows.net/rec"})
    assert settings.media_url_policy.refusal("https://acct.blob.core.windows.net/prompts/a.wav") is None
