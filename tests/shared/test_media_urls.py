"""Which audio URLs ACS may be sent to fetch (finding 5: SSRF through audioUrl, hold music and announce)."""

import pytest

from shared.media_urls import MediaUrlPolicy, storage_origins

POLICY = MediaUrlPolicy(allowed=("media.contoso.com", "https://cdn.example/audio/", "https://10.0.0.5/"))
LOCAL = MediaUrlPolicy(allowed=("http://127.0.0.1:8765/emulator/media/",), allow_local=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://media.contoso.com/greeting.wav",
        "http://media.contoso.com:8080/x.wav",
        "https://cdn.example/audio/hold.wav",
        "https://CDN.example/audio/sub/dir/hold.wav",
    ],
)
def test_allowed_urls_pass(url):
    assert POLICY.refusal(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "loopback, link-local or private"),
        ("http://127.0.0.1:10000/x.wav", "loopback, link-local or private"),
        ("http://[::1]/x.wav", "loopback, link-local or private"),
        ("http://[::ffff:127.0.0.1]/x.wav", "loopback, link-local or private"),
        ("https://10.0.0.5/x.wav", "loopback, link-local or private"),  # allow-listed, still private
        ("http://localhost/x.wav", "loopback, link-local or private"),
        ("http://2130706433/x.wav", "DNS name or a plain IP"),
        ("http://0x7f.1/x.wav", "DNS name or a plain IP"),
        ("https://user:pass@media.contoso.com/x.wav", "user name or password"),
        ("https://media.contoso.com@evil.example/x.wav", "user name or password"),
        ("https://cdn.example/audio/../private/x.wav", "'..' path segments"),
        ("https://cdn.example/audio/%2e%2e/private/x.wav", "'..' path segments"),
        ("https://cdn.example/audios/x.wav", "MEDIA_URL_ALLOWLIST"),
        ("https://cdn.example.evil.com/audio/x.wav", "MEDIA_URL_ALLOWLIST"),
        ("http://cdn.example/audio/x.wav", "MEDIA_URL_ALLOWLIST"),  # prefix says https
        ("https://evil.example/x.wav", "MEDIA_URL_ALLOWLIST"),
        ("ftp://media.contoso.com/x.wav", "http(s) URL"),
        ("https://media.contoso.com/a b.wav", "printable ASCII"),
        ("https://médias.contoso.com/x.wav", "printable ASCII"),
        ("https://media.contoso.com:99999/x.wav", "http(s) URL"),
    ],
)
def test_refused_urls_say_why(url, reason):
    refusal = POLICY.refusal(url)
    assert refusal is not None and reason in refusal


def test_local_development_flag_lets_loopback_through_but_not_userinfo():
    assert LOCAL.refusal("http://127.0.0.1:8765/emulator/media/hold-music.wav") is None
    assert "user name" in LOCAL.refusal("http://a:b@127.0.0.1:8765/emulator/media/hold-music.wav")
    assert "MEDIA_URL_ALLOWLIST" in LOCAL.refusal("http://169.254.169.254/latest/meta-data/")


def test_the_apps_own_storage_account_is_derived_from_its_urls():
    assert storage_origins(
        "https://acct.blob.core.windows.net/recordings", "https://acct.table.core.windows.net/", None
    ) == ("https://acct.blob.core.windows.net/",)
