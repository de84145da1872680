"""Scrada settings and folder templates (SCR-1, SCR-2): checked values, safe names, no way out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from webapp.scrada import config
from webapp.scrada.paths import (
    DEFAULT_TEMPLATE,
    PathValues,
    TemplateError,
    check_template,
    example_paths,
    render_folder,
    safe_name,
    target_path,
)
from webapp.services import Services

VALUES = PathValues(
    company_number="BE 0403.170.701",
    company_name="Boulangerie Dupont SRL",
    company_id="6a1f0c52",
    book="Recettes boutique",
    book_kind="daily-receipts",
    day=date(2026, 3, 7),
)


def test_default_template() -> None:
    assert str(render_folder(DEFAULT_TEMPLATE, VALUES)) == "0403170701/2026/Recettes boutique"


def test_every_field() -> None:
    template = "{company_name}/{company_id}/{book_kind}/{year}-{month}-{day}/{company_number}"
    folder = render_folder(check_template(template), VALUES)
    assert str(folder) == "Boulangerie Dupont SRL/6a1f0c52/daily-receipts/2026-03-07/0403170701"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('A/B\\C:D*E?F"G<H>I|J', "A-B-C-D-E-F-G-H-I-J"),
        ("..", "_"),
        ("", "_"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("trailing dots...", "trailing dots"),
        ("tab\tand\nnewline", "tab-and-newline"),
        ("x" * 300, "x" * 80),
    ],
)
def test_safe_name(value: str, expected: str) -> None:
    assert safe_name(value) == expected


def test_a_hostile_book_name_stays_inside_the_root(tmp_path: Path) -> None:
    hostile = PathValues("1", "../../etc", "x", "../../../passwd", "cash-book", date(2026, 1, 2))
    target = target_path(tmp_path, "{company_name}/{book}", hostile, "../doc")
    assert target.is_relative_to(tmp_path.resolve())
    assert target.suffix == ".cod"


@pytest.mark.parametrize(
    "template",
    [
        "/abs/{year}",
        "C:/x/{year}",
        "\\\\server\\share",
        "../{year}",
        "{year}/../..",
        "{colour}",
        "{year",
    ],
)
def test_templates_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        check_template(template)


def test_example_paths_show_each_field() -> None:
    rows = example_paths("{company_number}/{year}/{book}")
    fields = dict(rows[:-1])
    assert fields["{company_number}"] == "0403170701" and fields["{year}"] == "2026"
    assert rows[-1][1] == "0403170701/2026/Recettes boutique/2026-11-24_8c2d41e0.xml"


def test_settings_round_trip_and_refusals(services: Services, tmp_path: Path) -> None:
    services.vault.create("passphrase for tests")
    saved = config.apply(
        services.store,
        services.vault,
        config.ConfigChange(
            api_url="https://apitest.scrada.be/v1",
            company_ids=["aaa-1, bbb-2", "aaa-1"],
            root=str(tmp_path / "compta"),
            template="{company_number}/{book}",
            scope="selected",
            new_companies=False,
            api_key="key-123",
            password="pw-456",
        ),
    )
    assert saved.api_url == "https://apitest.scrada.be/v1/"
    assert saved.company_ids == ("aaa-1", "bbb-2")
    assert config.load(services.store) == saved
    creds = config.credentials(services.vault)
    assert creds == config.Credentials("key-123", "pw-456")
    with services.store.read() as db:
        dump = "\n".join(str(tuple(row)) for row in db.execute("SELECT * FROM settings"))
    assert "key-123" not in dump and "pw-456" not in dump
    for change in (
        config.ConfigChange(api_url="ftp://x"),
        config.ConfigChange(root="relative/folder"),
        config.ConfigChange(template="../x"),
        config.ConfigChange(scope="some"),
        config.ConfigChange(company_ids=["bad id!"]),
    ):
        with pytest.raises((config.ConfigError, TemplateError)):
            config.apply(services.store, services.vault, change)
    assert config.load(services.store) == saved, "a refused change leaves the settings whole"


def test_secrets_need_an_unlocked_vault(services: Services) -> None:
    with pytest.raises(config.ConfigError):
        config.apply(services.store, services.vault, config.ConfigChange(api_key="k"))
    assert config.credentials(services.vault) is None


def test_a_portable_root_stays_relative_to_the_data_folder(
    services: Services, tmp_path: Path
) -> None:
    from webapp.config import DataDir

    stick = DataDir(path=tmp_path / "stick" / "data", portable=True)
    assert config.ScradaConfig().root_in(stick) == stick.path / "scrada", "portable default"
    saved = config.apply(
        services.store, None, config.ConfigChange(root=str(stick.path / "compta")), stick
    )
    assert saved.root == "compta"
    moved = DataDir(path=tmp_path / "other-mount" / "data", portable=True)
    assert saved.root_in(moved) == moved.path / "compta", "the stick works under another mount"
    outside = config.apply(
        services.store, None, config.ConfigChange(root=str(tmp_path / "elsewhere")), stick
    )
    assert outside.root == str(tmp_path / "elsewhere")
    fixed = DataDir(path=tmp_path / "pc", portable=False)
    assert config.ScradaConfig().root_in(fixed) is None, "a PC install asks for its root"
    with pytest.raises(config.ConfigError):
        config.apply(services.store, None, config.ConfigChange(root="relative"), fixed)
