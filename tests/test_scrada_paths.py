"""Scrada settings and folder templates (SCR-1, SCR-2): checked values, safe names, no way out."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pathvalidate import validate_filename

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
        ("COM\u00b9", "_COM\u00b9"),
        ("com\u00b2.txt", "_com\u00b2.txt"),
        ("LPT\u00b3", "_LPT\u00b3"),
        ("CONIN$", "_CONIN$"),
        ("conout$.log", "_conout$.log"),
        ("AUX .txt", "_AUX .txt"),
        ("CON.", "_CON"),
        ("name. . ", "name"),
        (" leading", "leading"),
        ("CONSOLE", "CONSOLE"),
    ],
)
def test_safe_name(value: str, expected: str) -> None:
    assert safe_name(value) == expected


def test_safe_name_counts_bytes_and_keeps_long_names_apart() -> None:
    emoji = safe_name("\U0001f950" * 100)  # 400 bytes of croissants
    assert len(emoji.encode("utf-8")) <= 255
    first, second = safe_name("x" * 300 + "a"), safe_name("x" * 300 + "b")
    assert len(first.encode()) <= 255 and len(second.encode()) <= 255
    assert first != second, "two long names never collide"
    assert re.fullmatch(r"x+~[0-9a-f]{6}", first)
    assert safe_name("x" * 300 + "a") == first, "stable"


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
        "{year:d}",
        "{company_name!r}",
        "{x:>200}",
        "{year:>200}",
        "{book!s:>3}",
        "{year.real}",
        "{year[0]}",
        "{}",
        "{0}",
        "{year}}",
        "{company_number:{year}}",
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


def test_format_specs_are_refused_with_a_clear_message() -> None:
    with pytest.raises(TemplateError) as refused:
        check_template("{company_number}/{year:d}")
    assert refused.value.message.startswith("Only plain fields")
    assert "{year:d}" in refused.value.translated()


LONG_ROOT = "/srv/" + "r" * 145  # 150 characters


def _long_values(name: str) -> PathValues:
    return PathValues(
        company_number="0403.170.701",
        company_name=name,
        company_id="6a1f0c52-8d2e-4a7b-9c43-2f1e9d0b7a11",
        book="Recettes de la boutique principale " * 3,
        book_kind="daily-receipts",
        day=date(2026, 3, 7),
    )


def test_a_long_path_is_shortened_under_240_characters() -> None:
    template = "{company_name}/{year}/{book}/{company_id}"
    values = _long_values("Boulangerie pâtisserie Dupont et fils " * 4)
    target = target_path(Path(LONG_ROOT), template, values, "8c2d41e0")
    assert len(str(target)) < 240
    assert target.is_relative_to(LONG_ROOT)
    parts = target.relative_to(LONG_ROOT).parts
    assert parts[1] == "2026", "short components are left alone"
    assert parts[-1] == "2026-03-07_8c2d41e0.xml", "the file name is kept whole"
    shortened = [part for part in parts if re.search(r"~[0-9a-f]{6}$", part)]
    assert parts[0] in shortened and parts[2] in shortened, "the longest ones are shortened"
    assert target == target_path(Path(LONG_ROOT), template, values, "8c2d41e0"), "stable"


def test_two_long_names_never_share_a_shortened_folder() -> None:
    template = "{company_name}/{book}"
    common = "Société coopérative des boulangers réunis de Wallonie " * 3
    first = target_path(Path(LONG_ROOT), template, _long_values(common + "Namur"), "1")
    second = target_path(Path(LONG_ROOT), template, _long_values(common + "Liège"), "1")
    assert first != second
    assert first.parent.parent != second.parent.parent


def test_a_short_path_is_left_alone(tmp_path: Path) -> None:
    target = target_path(tmp_path, DEFAULT_TEMPLATE, VALUES, "8c2d41e0")
    assert (
        target == tmp_path.resolve() / "0403170701/2026/Recettes boutique/2026-03-07_8c2d41e0.xml"
    )


def test_the_preview_shows_the_shortened_path() -> None:
    template = "{company_name}/{book}/{company_id}/{book_kind}/{company_number}"
    rows = example_paths(template, Path(LONG_ROOT))
    shown = rows[-1][1]
    assert len(LONG_ROOT) + 1 + len(shown) < 240
    assert re.search(r"~[0-9a-f]{6}/", shown), shown
    assert example_paths(template)[-1][1].count("~") == 0, "no root: nothing to shorten"


def test_a_root_too_long_for_any_path_is_refused_when_saved(
    services: Services, tmp_path: Path
) -> None:
    deep = tmp_path / ("d" * 100) / ("e" * 100)
    with pytest.raises((config.ConfigError, TemplateError)) as refused:
        config.apply(services.store, None, config.ConfigChange(root=str(deep)))
    assert "trop long" in refused.value.translated()
    assert config.load(services.store).root == ""


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_makes_a_name_windows_and_linux_accept(value: str) -> None:
    name = safe_name(value)
    validate_filename(name, platform="universal")  # pathvalidate as the independent judge
    assert len(name.encode("utf-8")) <= 255
    assert name == name.strip(" .") and name not in ("", ".", "..")
    assert name.split(".", 1)[0].rstrip(" ").upper() not in ("CON", "NUL", "CONIN$", "COM\u00b9")
