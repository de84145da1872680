"""Process names in words (issue 16): every run the code records has a label, in French and in
English, and the history's Processus filter offers every process that has runs, by its label."""

from __future__ import annotations

import ast
import html
import importlib
import re
from pathlib import Path

from tests.conftest import Client
from webapp import history, i18n, job_list
from webapp.job_labels import JOB_LABELS, has_label, job_label
from webapp.services import Services

WEBAPP = Path(__file__).resolve().parents[1] / "webapp"
PENDING = WEBAPP.parent / "translations" / "pending"


def _recorded_names() -> set[str]:
    """The job names of every module that starts a run by hand (history.start_run): its
    module-level string constants named like a job (JOB_NAME, IMPORT_JOB, RECEIVE_JOB…)."""
    names: set[str] = set()
    for path in WEBAPP.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "start_run(" not in source or path.name == "history.py":
            continue
        module = importlib.import_module(
            ".".join(path.relative_to(WEBAPP.parent).with_suffix("").parts)
        )
        for node in ast.parse(source).body:
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.endswith(("JOB", "JOB_NAME")):
                    value = getattr(module, target.id, None)
                    if isinstance(value, str):
                        names.add(value)
    return names


def _pending_msgids() -> set[str]:
    """Msgids waiting in translations/pending/*.tsv for the catalogue (merged later)."""
    found: set[str] = set()
    for path in PENDING.glob("*.tsv") if PENDING.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                found.add(line.split("\t", 1)[0])
    return found


def test_every_scheduled_job_and_task_has_its_title_as_label() -> None:
    named = [(spec.name, spec.title) for spec in job_list.JOBS]
    named += [(spec.name, spec.title) for spec in job_list.TASKS]
    for name, title in named:
        assert has_label(name), name
        assert JOB_LABELS[name] == title, "one text for the same process"


def test_every_recorded_run_name_has_a_label() -> None:
    recorded = _recorded_names()
    assert {"scrada_redeliver", "scrada_webhook", "connector_send", "scrada_move"} <= recorded
    missing = sorted(name for name in recorded if not has_label(name))
    assert missing == [], missing


def test_labels_are_words_in_french_and_english() -> None:
    pending = _pending_msgids()
    for name, msgid in JOB_LABELS.items():
        with i18n.language("en"):
            assert job_label(name) == msgid
        with i18n.language("fr"):
            french = job_label(name)
        assert french != name and "_" not in french
        assert french != msgid or msgid in pending, f"{msgid!r} has no French translation"
    with i18n.language("fr"):
        assert job_label("scrada_pull") == "Synchronisation Scrada"
    assert job_label("made_up_job") == "made_up_job", "an unknown name is shown as stored"


def test_the_filter_offers_every_process_with_runs_in_words(
    client: Client, services: Services
) -> None:
    for name in ("scrada_move", "scrada_redeliver", "connector_send"):
        run_id = history.start_run(services.store, name, "manual")
        history.finish_run(services.store, run_id, "success")
    page = client.get("/history").text
    select = re.search(r'<select name="job".*?</select>', page, re.S)
    assert select, page
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select.group(0)))
    for name in ("scrada_move", "scrada_redeliver", "connector_send", "scrada_pull"):
        assert name in options, options
        assert html.unescape(options[name]) not in ("", name)
    assert html.unescape(options["scrada_pull"]) in ("Synchronisation Scrada", "Scrada pull")
    labels = [html.unescape(label) for value, label in options.items() if value]
    assert labels == sorted(labels, key=str.casefold), "in the order of their labels"


def test_a_run_page_and_its_progress_name_the_process_in_words(
    client: Client, services: Services
) -> None:
    run_id = history.start_run(services.store, "scrada_redeliver", "manual")
    history.finish_run(services.store, run_id, "success")
    page = client.get(f"/runs/{run_id}").text
    assert "scrada_redeliver" not in page
    progress = client.get(f"/runs/{run_id}/progress").text
    assert 'aria-label="' in progress and "scrada_redeliver" not in progress
