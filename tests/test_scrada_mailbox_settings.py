"""The mailbox source's settings (webapp/scrada/mail_settings.py): what `relais scrada set` and the
Scrada page accept before any connection is tried."""

from __future__ import annotations

import pytest

from webapp import i18n
from webapp.scrada.mail_settings import (
    DEFAULT_PORTS,
    MailboxSettings,
    MailboxSettingsError,
    imap_folder,
    validate_mailbox_settings,
)


@pytest.mark.parametrize("host", ["mail.example.com", "192.168.1.10", "10.0.0.1"])
def test_no_tls_is_refused_beyond_this_computer(host: str) -> None:
    with pytest.raises(MailboxSettingsError) as caught:
        validate_mailbox_settings(host=host, security="none", user="u")
    assert "only allowed for this computer" in caught.value.message


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_no_tls_is_allowed_on_loopback(host: str) -> None:
    settings = validate_mailbox_settings(host=host, security="none", user="u")
    assert settings.port == 143
    assert settings.host == host.strip("[]")  # the socket takes a bare IPv6 address


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"port": 0}, "1 to 65535"),
        ({"port": 65536}, "1 to 65535"),
        ({"port": "imap"}, "1 to 65535"),
        ({"security": "tls1"}, "ssl, starttls or none"),
        ({"host": "https://mail.example.com"}, "not a host name"),
        ({"host": "mail example.com"}, "not a host name"),
        ({"host": ""}, "not a host name"),
        ({"host": ":::::"}, "not a host name"),
        ({"host": "user@mail.example.com"}, "not a host name"),
        ({"user": "  "}, "user name"),
        ({"user": "a\nb"}, "user name"),
        ({"folder": ""}, "Enter a folder name"),
        ({"folder": "In\rbox"}, "not usable"),
        ({"folder": "*"}, "not usable"),
        ({"folder": "x" * 201}, "not usable"),
        ({"done_action": "delete"}, "keyword or moved"),
        ({"done_action": "move"}, "Enter a folder name"),
        ({"done_action": "move", "done_folder": " INBOX "}, "must differ"),
    ],
)
def test_bad_settings_are_refused(changes: dict[str, object], expected: str) -> None:
    values: dict[str, object] = {"host": "imap.example.com", "user": "shop@example.com"}
    values.update(changes)
    with pytest.raises(MailboxSettingsError) as caught:
        validate_mailbox_settings(**values)  # type: ignore[arg-type]
    with i18n.language("en"):  # the English text; test_i18n checks every French one
        assert expected in caught.value.translated()


def test_settings_are_normalised_and_survive_a_round_trip() -> None:
    settings = validate_mailbox_settings(
        host=" imap.example.com ",
        port="",
        security="SSL",
        user=" shop@example.com ",
        folder=" Scrada ",
        done_action="Move",
        done_folder="Scrada/Done",
    )
    assert settings == MailboxSettings(
        "imap.example.com",
        DEFAULT_PORTS["ssl"],
        "ssl",
        "shop@example.com",
        "Scrada",
        "move",
        "Scrada/Done",
    )
    assert MailboxSettings.from_dict(settings.as_dict()) == settings
    with pytest.raises(MailboxSettingsError):
        MailboxSettings.from_dict({**settings.as_dict(), "security": "none"})


def test_folder_names_are_quoted_in_modified_utf7() -> None:
    assert imap_folder("INBOX") == '"INBOX"'
    assert imap_folder("Reçus") == '"Re&AOc-us"'
    assert imap_folder("A&B") == '"A&-B"'
    assert imap_folder('say "hi" \\ ok') == '"say \\"hi\\" \\\\ ok"'
    assert imap_folder("日本語") == '"&ZeVnLIqe-"'
