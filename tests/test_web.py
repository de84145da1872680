"""The web UI through Litestar's test client: pages, language, safety, processes, history, settings."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Client
from webapp import history, history_queries, i18n, job_list
from webapp.backoffice import uploads
from webapp.services import Services

PAGES = {
    "/": "Tableau de bord",
    "/scrada": "Scrada",
    "/pos": "Caisses",
    "/connectors": "Connecteurs",
    "/processes": "Processus",
    "/history": "Historique",
    "/settings": "Paramètres",
}


@pytest.mark.parametrize(("path", "title"), PAGES.items())
def test_every_area_answers_in_french_with_the_navigation(
    client: Client, path: str, title: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert '<html lang="fr">' in response.text
    assert f"<h1>{title}</h1>" in response.text
    for href in PAGES:
        assert f'href="{href}"' in response.text  # no dead links: each target is tested above
    assert 'aria-current="page"' in response.text


def test_no_area_is_left_as_a_placeholder(client: Client) -> None:
    text = client.get("/connectors").text
    assert "Prévu dans une prochaine version" not in text  # the e-connecteur has its screens


def test_language_switch_sets_a_cookie_and_translates(client: Client, services: Services) -> None:
    response = client.post(
        "/language",
        data={"language": "en", "next": "/history"},
        headers={"x-csrftoken": client.token()},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/history"
    assert f"relais_lang_{services.cookie_suffix}=en" in response.headers["set-cookie"]
    page = client.get("/history").text
    assert '<html lang="en">' in page and "<h1>History</h1>" in page
    client.post(
        "/language", data={"language": "fr", "next": "/"}, headers={"x-csrftoken": client.token()}
    )
    assert "<h1>Tableau de bord</h1>" in client.get("/").text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_language_switch_never_redirects_elsewhere(client: Client, target: str) -> None:
    response = client.post(
        "/language",
        data={"language": "en", "next": target},
        headers={"x-csrftoken": client.token()},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_foreign_host_is_refused(client: Client) -> None:
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_post_without_csrf_token_is_refused_and_does_nothing(
    client: Client, services: Services
) -> None:
    response = client.post("/processes/database_backup/run", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "Cette action a été refusée" in response.text
    bad = client.post("/processes/database_backup/run", headers={"x-csrftoken": "forged"})
    assert bad.status_code == 403
    assert history_queries.recent_runs(services.store) == []


def test_security_headers(client: Client) -> None:
    for path in ("/", "/static/htmx.min.js", "/favicon.ico"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
        )
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"


def test_static_files_and_favicon(client: Client) -> None:
    htmx = client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx 2." in htmx.text[:200]
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.headers["content-type"] == "image/x-icon"
    assert favicon.content[:4] == b"\x00\x00\x01\x00"


def test_not_found_page_is_french(client: Client) -> None:
    response = client.get("/nope", headers={"accept": "text/html"})
    assert response.status_code == 404 and "Cette page n’existe pas." in response.text
    assert client.get("/runs/9999", headers={"accept": "text/html"}).status_code == 404


def wait_for_run(client: Client, run_id: int) -> str:
    for _ in range(100):
        fragment = client.get(f"/runs/{run_id}/progress").text
        if 'data-status="running"' not in fragment:
            return fragment
        time.sleep(0.05)
    raise AssertionError("the run did not finish")


def test_run_now_shows_progress_then_the_result(client: Client, services: Services) -> None:
    response = client.post_form("/processes/database_backup/run")
    assert response.status_code == 200
    assert 'class="progress-card' in response.text and "<html" not in response.text
    run_id = history_queries.recent_runs(services.store, limit=1)[0]["id"]
    final = wait_for_run(client, run_id)
    assert 'data-status="success"' in final and "hx-trigger" not in final  # polling stops
    assert "Sauvegarde relais-" in final
    detail = client.get(f"/runs/{run_id}").text
    assert "Sauvegarde écrite" in detail and "un utilisateur (lancer maintenant)" in detail


def test_schedule_edit_validates(client: Client, services: Services) -> None:
    bad = client.post_form(
        "/processes/history_purge", {"trigger_kind": "cron", "trigger_value": "every night"}
    )
    assert bad.status_code == 422 and "Cette expression cron n’est pas valide" in bad.text
    assert services.runner.definition("history_purge")["trigger_value"] == "30 3 * * *"
    good = client.post_form(
        "/processes/history_purge", {"trigger_kind": "interval", "trigger_value": "90"}
    )
    assert good.status_code == 200 and "Planification enregistrée." in good.text
    row = services.runner.definition("history_purge")
    assert (row["trigger_kind"], row["trigger_value"], row["enabled"]) == (
        "interval",
        "90",
        0,
    )  # unticked
    assert (
        client.post_form(
            "/processes/nope", {"trigger_kind": "interval", "trigger_value": "5"}
        ).status_code
        == 404
    )


def error_item(services: Services, reference: str = "facture-1") -> int:
    run_id = history.start_run(services.store, "database_backup", "schedule")
    item = history.add_item(
        services.store,
        run_id,
        "database_backup",
        kind="file",
        status="error",
        reference=reference,
        message="Backup written: {file}",
        params={"file": "x"},
    )
    history.finish_run(services.store, run_id, "warning")
    return item


def test_history_filters_and_partial_swap(client: Client, services: Services) -> None:
    error_item(services)
    services.runner.run("database_backup")
    full = client.get("/history")
    assert full.status_code == 200 and "facture-1" in full.text and "<html" in full.text
    partial = client.get(
        "/history?status=error", headers={"HX-Request": "true", "HX-Target": "history-results"}
    )
    assert partial.text.lstrip().startswith('<section id="history-results">')
    assert "facture-1" in partial.text and "relais-" not in partial.text
    assert "facture-1" not in client.get("/history?status=done").text
    assert "facture-1" in client.get("/history?status=unresolved&job=database_backup").text
    assert "facture-1" not in client.get("/history?date_to=2000-01-01").text
    assert client.get("/history?date_from=not-a-date&page=x&status=weird").status_code == 200


def test_resolve_needs_a_justification(client: Client, services: Services) -> None:
    item_id = error_item(services)
    refused = client.post_form(f"/history/items/{item_id}/resolve", {"justification": " "})
    assert refused.status_code == 422 and "Une justification est obligatoire" in refused.text
    assert history_queries.count_unresolved(services.store) == 1
    done = client.post_form(
        f"/history/items/{item_id}/resolve", {"justification": "Renvoyé au client", "who": "Anne"}
    )
    assert done.status_code == 200 and "Résolue le" in done.text and "Anne" in done.text
    assert history_queries.count_unresolved(services.store) == 0


def test_csv_export_is_formula_safe(client: Client, services: Services) -> None:
    error_item(services, reference='=HYPERLINK("http://x")')
    response = client.get("/history/export.csv?status=error")
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffDate;Processus;")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text


def test_settings_validate_and_save(client: Client, services: Services) -> None:
    bad = client.post_form(
        "/settings/general",
        {"language": "fr", "history_retention_months": "0", "backups_kept": "7"},
    )
    assert bad.status_code == 422 and "Saisissez un nombre entre 1 et 36." in bad.text
    good = client.post_form(
        "/settings/general",
        {"language": "en", "history_retention_months": "3", "backups_kept": "7"},
    )
    assert good.status_code == 200
    from webapp import settings

    assert settings.get(services.store, "history_retention_months") == 3
    assert '<html lang="en">' in client.get("/").text  # the default language changed


def test_vault_create_lock_unlock_from_the_ui(client: Client, services: Services) -> None:
    assert "Le coffre des secrets n’est pas encore créé" in client.get("/").text
    differ = client.post_form(
        "/settings/vault/create", {"passphrase": "correct horse", "confirmation": "other one"}
    )
    assert differ.status_code == 422 and not services.vault.is_initialized
    short = client.post_form(
        "/settings/vault/create", {"passphrase": "short", "confirmation": "short"}
    )
    assert short.status_code == 422 and "au moins 8 caractères" in short.text
    created = client.post_form(
        "/settings/vault/create", {"passphrase": "correct horse", "confirmation": "correct horse"}
    )
    assert created.status_code == 200 and services.vault.is_unlocked
    client.post_form("/settings/vault/lock")
    assert not services.vault.is_unlocked
    assert "Le coffre des secrets est verrouillé" in client.get("/").text
    wrong = client.post_form("/settings/vault/unlock", {"passphrase": "wrong horse"})
    assert wrong.status_code == 422 and not services.vault.is_unlocked
    assert (
        client.post_form("/settings/vault/unlock", {"passphrase": "correct horse"}).status_code
        == 200
    )
    assert services.vault.is_unlocked


def test_health(client: Client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["vault"] == "file"


def test_pausing_the_scheduler_is_kept_across_restarts(client: Client, services: Services) -> None:
    services.runner.start_scheduler()
    response = client.post(
        "/processes/scheduler", data={"action": "pause"}, headers={"x-csrftoken": client.token()}
    )
    assert response.status_code == 200 and "Le planificateur est en pause" in response.text
    assert services.runner.paused
    services.runner.shutdown()
    from webapp.jobs import JobRunner

    again = JobRunner(services.store, services.data_dir, job_list.registry())
    again.start_scheduler()
    try:
        assert again.paused
        again.resume()
        assert not again.paused
    finally:
        again.shutdown()


def test_resolve_form_is_loaded_on_demand(client: Client, services: Services) -> None:
    item_id = error_item(services)
    listing = client.get("/history?status=error").text
    assert f'hx-get="/history/items/{item_id}/resolve"' in listing and "<textarea" not in listing
    form = client.get(f"/history/items/{item_id}/resolve")
    assert (
        form.status_code == 200
        and 'name="justification"' in form.text
        and "_csrf_token" in form.text
    )
    assert (
        client.get("/history/items/99999/resolve", headers={"accept": "text/html"}).status_code
        == 404
    )


def test_a_task_run_shows_its_title(client: Client, services: Services) -> None:
    """A browser import's analysis is a task, not a scheduled job: still named by its title."""
    run_id = services.tasks.claim(uploads.ANALYSIS_TASK, {}, subject="ventes.csv", origin="manual")
    history.add_item(
        services.store,
        run_id,
        uploads.ANALYSIS_TASK,
        kind="file",
        status="error",
        reference="ventes.csv",
    )
    history.finish_run(services.store, run_id, "failed")
    client.post(
        "/language", data={"language": "en", "next": "/"}, headers={"x-csrftoken": client.token()}
    )
    dashboard = client.get("/").text
    assert "<td>Analysis of a CSV file</td>" in dashboard
    assert uploads.ANALYSIS_TASK not in dashboard
    listing = client.get("/history").text
    assert f'value="{uploads.ANALYSIS_TASK}" >Analysis of a CSV file</option>' in listing
    assert "<td>Analysis of a CSV file</td>" in listing
    export = client.get("/history/export.csv").content.decode("utf-8")
    assert ";Analysis of a CSV file;" in export and uploads.ANALYSIS_TASK not in export


def test_schedule_edit_without_a_trigger_kind_is_refused(
    client: Client, services: Services
) -> None:
    before = services.runner.definition("history_purge")
    refused = client.post_form("/processes/history_purge", {"trigger_value": "5", "enabled": "on"})
    assert refused.status_code == 422 and "Type de déclencheur inconnu." in refused.text
    after = services.runner.definition("history_purge")
    assert (after["trigger_kind"], after["trigger_value"], after["enabled"]) == (
        before["trigger_kind"],
        before["trigger_value"],
        before["enabled"],
    )


def test_resolve_refuses_a_justification_too_long(client: Client, services: Services) -> None:
    item_id = error_item(services)
    refused = client.post_form(
        f"/history/items/{item_id}/resolve",
        {"justification": "x" * (history.JUSTIFICATION_MAX + 1), "who": "Anne"},
    )
    with i18n.language("fr"):
        message = i18n.gettext("The justification is limited to {max} characters.", max=2000)
    assert refused.status_code == 422 and message in refused.text
    long_name = client.post_form(
        f"/history/items/{item_id}/resolve", {"justification": "Vu", "who": "A" * 101}
    )
    assert long_name.status_code == 422
    assert history_queries.count_unresolved(services.store) == 1


def test_the_back_button_gets_the_whole_page_not_its_section(client: Client) -> None:
    # htmx keeps no page in its history cache (historyCacheSize 0): going back asks the server
    # with HX-History-Restore-Request and swaps the answer into the whole body.
    section = client.get("/", headers={"HX-Request": "true"}).text
    assert "<html" not in section
    restored = client.get(
        "/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).text
    assert "<html" in restored
