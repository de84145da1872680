"""The Scrada settings refuse a bad template or root when saved, with the same rule in the command
line (exit 2) and the settings form (422, the message under its field); nothing is half-saved, and
the live path preview shows the path the pull would write (made safe, shortened)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Client, relais
from webapp.scrada import config
from webapp.services import Services

BAD_TEMPLATES = ["{year:d}", "{company_name!r}", "{x:>200}", "{company_number}/{book:>300}"]


def _form(root: Path, template: str) -> dict[str, str]:
    return {
        "api_url": "https://apitest.scrada.be/v1/",
        "company_ids": "",
        "root": str(root),
        "template": template,
        "scope": "all",
    }


@pytest.mark.parametrize("template", BAD_TEMPLATES)
def test_the_form_refuses_a_format_spec_under_the_field(
    client: Client, services: Services, tmp_path: Path, template: str
) -> None:
    before = config.load(services.store)
    answer = client.post_form("/scrada/settings", _form(tmp_path / "compta", template))
    assert answer.status_code == 422
    under = re.search(r'<p class="error" id="template-error" role="alert">([^<]*)</p>', answer.text)
    assert under, answer.text
    assert re.sub(r":.*", "", template.split("/")[-1]).strip("{}") in under.group(1)
    assert 'aria-describedby="template-error"' in answer.text
    assert config.load(services.store) == before, "nothing saved, not even the root"


def test_the_form_refuses_a_root_too_long_under_its_field(
    client: Client, services: Services, tmp_path: Path
) -> None:
    deep = tmp_path / ("d" * 120) / ("e" * 120)
    answer = client.post_form("/scrada/settings", _form(deep, "{company_number}/{year}"))
    assert answer.status_code == 422
    assert re.search(r'<p class="error" id="root-error" role="alert">[^<]*240', answer.text)
    assert config.load(services.store).root == ""


def test_the_form_saves_a_plain_template(
    client: Client, services: Services, tmp_path: Path
) -> None:
    answer = client.post_form("/scrada/settings", _form(tmp_path / "compta", "{year}/{book}"))
    assert answer.status_code == 200, answer.text
    assert config.load(services.store).template == "{year}/{book}"


def test_the_preview_shows_the_shortened_safe_path(client: Client, tmp_path: Path) -> None:
    root = tmp_path / ("r" * (140 - len(str(tmp_path))))  # 140 characters in all
    template = "{company_name}/{book}/{company_id}/{book_kind}/{company_number}"
    answer = client.get("/scrada/template-help", params={"template": template, "root": str(root)})
    assert answer.status_code == 200
    match = re.search(r"<code data-example-path>([^<]*)</code>", answer.text)
    assert match, answer.text
    shown = match.group(1)
    assert len(str(root)) + 1 + len(shown) < 240
    assert re.search(r"~[0-9a-f]{6}/", shown), shown
    short = client.get("/scrada/template-help", params={"template": template})
    assert "~" not in re.findall(r"<code data-example-path>([^<]*)</code>", short.text)[0]


def test_the_preview_tells_a_bad_template(client: Client) -> None:
    answer = client.get("/scrada/template-help", params={"template": "{year:>200}"})
    assert answer.status_code == 200
    assert "{year:&gt;200}" in answer.text or "{year:>200}" in answer.text
    assert 'role="alert"' in answer.text


def test_the_command_line_refuses_a_format_spec_with_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    saved = relais("scrada", "set", "--template", "{year}/{book}", "--json", data_dir=data)
    assert saved.returncode == 0, saved.stderr
    for template in BAD_TEMPLATES:
        refused = relais("scrada", "set", "--template", template, "--json", data_dir=data)
        assert refused.returncode == 2, (template, refused.stdout, refused.stderr)
        answer = json.loads(refused.stdout)
        assert answer["ok"] is False and "{" in answer["error"], answer
    shown = relais("scrada", "set", "--json", data_dir=data)
    assert json.loads(shown.stdout)["template"] == "{year}/{book}", "the old template is kept"
    plain = relais("scrada", "set", "--template", "{book:d}", data_dir=data)
    assert plain.returncode == 2 and "{book:d}" in plain.stderr


def test_a_missing_drop_folder_is_offered_to_be_created(
    client: Client, services: Services, tmp_path: Path
) -> None:
    drop = tmp_path / "depot" / "scrada"
    form = {**_form(tmp_path / "compta", "{year}/{book}"), "drop_folder": str(drop)}
    missing = client.post_form("/scrada/settings", form)
    assert missing.status_code == 422
    assert re.search(
        r'<p class="error" id="drop_folder-error" role="alert">[^<]*depot', missing.text
    )
    assert 'name="create_drop_folder"' in missing.text and not drop.exists()
    assert config.load(services.store).drop_folder == ""
    created = client.post_form("/scrada/settings", {**form, "create_drop_folder": "on"})
    assert created.status_code == 200, created.text
    assert drop.is_dir() and config.load(services.store).drop_folder == str(drop)
    assert config.load(services.store).drop_folder_in(services.data_dir) == drop
    (tmp_path / "a-file").write_text("x")
    file = client.post_form("/scrada/settings", {**form, "drop_folder": str(tmp_path / "a-file")})
    assert file.status_code == 422 and 'id="drop_folder-error"' in file.text
    assert config.load(services.store).drop_folder == str(drop)


def test_a_drop_folder_inside_a_portable_data_folder_is_kept_relative(tmp_path: Path) -> None:
    from webapp.config import DataDir
    from webapp.scrada.source_settings import checked_drop_folder

    portable = DataDir(tmp_path / "data", portable=True)
    inside = portable.path / "depot"
    assert checked_drop_folder(str(inside), portable, create=True) == "depot"
    assert config.ScradaConfig(drop_folder="depot").drop_folder_in(portable) == inside
    assert checked_drop_folder("depot", portable, create=False) == "depot"
