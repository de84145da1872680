"""Settings: defaults, validation, persistence; the install id that names cookies and keyring entries."""

from __future__ import annotations

import pytest

from webapp import settings
from webapp.settings import SettingError
from webapp.store import Store


def test_defaults_then_stored_values(data_dir) -> None:  # type: ignore[no-untyped-def]
    store = Store(data_dir.database)
    assert settings.get(store, "language") == "fr"
    assert settings.get(store, "history_retention_months") == 2
    assert settings.put(store, "history_retention_months", " 6 ") == 6
    assert settings.get_all(Store(data_dir.database))["history_retention_months"] == 6


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("history_retention_months", "0"),
        ("history_retention_months", "x"),
        ("history_retention_months", "37"),
        ("backups_kept", "-1"),
        ("language", "de"),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(data_dir, key: str, value: str) -> None:  # type: ignore[no-untyped-def]
    store = Store(data_dir.database)
    before = settings.get(store, key)
    with pytest.raises(SettingError) as caught:
        settings.put(store, key, value)
    assert caught.value.translated()  # a readable message
    assert settings.get(store, key) == before


def test_install_id_is_stable_per_data_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = Store(tmp_path / "a.sqlite")
    other = Store(tmp_path / "b.sqlite")
    assert settings.install_id(first) == settings.install_id(first)
    assert settings.install_id(first) != settings.install_id(other)
