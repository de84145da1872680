"""`relais scrada set|verify|pull|status|companies|select`: the Scrada pull from the command line."""

from __future__ import annotations

import sys
from typing import Any

import click

from webapp import history, history_queries, i18n
from webapp.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_CREDENTIALS,
    EXIT_ITEMS_FAILED,
    CliState,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.cli.scrada_sources import source_options, sources_change
from webapp.i18n import _


@click.group()
def scrada() -> None:
    """Scrada: daily receipts (UBL) and cash books (CODA) into the accounting folders."""


def _unlocked_vault(state: CliState, as_json: bool) -> Any:
    return unlocked_services(state, as_json, required=False)


@scrada.command("set")
@click.option("--api-url", help="API address (production https://api.scrada.be/v1/).")
@click.option("--test-environment", is_flag=True, help="Use Scrada's test API.")
@click.option("--api-key", help="API key (stored in the vault). '-' reads it from standard input.")
@click.option("--password", help="API password (stored in the vault). '-' reads standard input.")
@click.option(
    "--company-id", "company_ids", multiple=True, help="A company id to pull (repeatable)."
)
@click.option("--partner", is_flag=True, help="Partner setup: no fixed ids, the feed lists them.")
@click.option("--root", help="Root folder of the delivered files.")
@click.option("--template", help="Subfolder template, e.g. {company_number}/{year}/{book}.")
@click.option("--scope", type=click.Choice(["all", "selected"]), help="Which companies to pull.")
@click.option(
    "--new-companies",
    type=click.Choice(["on", "off"]),
    help="Whether a newly seen company is selected.",
)
@click.option("--webhook-secret", help="Secret key of the webhooks (stored in the vault).")
@source_options
@json_option
@click.pass_obj
def scrada_set(
    state: CliState,
    /,
    api_url: str | None,
    test_environment: bool,
    api_key: str | None,
    password: str | None,
    company_ids: tuple[str, ...],
    partner: bool,
    root: str | None,
    template: str | None,
    scope: str | None,
    new_companies: str | None,
    webhook_secret: str | None,
    as_json: bool,
    **source_values: Any,
) -> None:
    """Change the Scrada settings; secrets go to the vault, never to the database."""
    from webapp.scrada import config
    from webapp.scrada.paths import TemplateError
    from webapp.scrada.source_settings import SourceSettingsError

    if test_environment:
        api_url = config.TEST_URL
    stdin_value = sys.stdin.read().strip() if "-" in (api_key, password) else None
    sources = sources_change(source_values, stdin_taken=stdin_value is not None)
    services = (
        _unlocked_vault(state, as_json)
        if (api_key or password or webhook_secret or sources.has_secret or sources.no_mailbox)
        else state.services()
    )
    change = config.ConfigChange(
        api_url=api_url,
        company_ids=[] if partner else (list(company_ids) if company_ids else None),
        root=root,
        template=template,
        scope=scope,
        new_companies=None if new_companies is None else new_companies == "on",
        api_key=stdin_value if api_key == "-" else api_key,
        password=stdin_value if password == "-" else password,
        webhook_secret=webhook_secret,
        sources=sources,
    )
    try:
        saved = config.apply(services.store, services.vault, change, services.data_dir)
    except (config.ConfigError, TemplateError, SourceSettingsError) as exc:
        fail(exc.translated(), as_json=as_json)
    shown = saved.as_dict()
    emit(as_json, {"ok": True, **shown}, "\n".join(f"{k} = {v}" for k, v in shown.items()))


@scrada.command("verify")
@json_option
@click.pass_obj
def scrada_verify(state: CliState, as_json: bool) -> None:
    """Check the API key and password with Scrada, and the mailbox when one is set (exit 3 when
    credentials are refused, 2 for any other failure)."""
    from webapp.scrada import verify

    services = _unlocked_vault(state, as_json)
    result = verify.verify(services.store, services.vault)
    box = verify.verify_mailbox(services.store, services.vault)
    data: dict[str, Any] = {"ok": result.ok, "message": result.message}
    lines = [f"Scrada: {result.message}"]
    if box is not None:
        data["ok"] = result.ok and box.ok
        data["mailbox"] = {"ok": box.ok, "message": box.message, "waiting": box.waiting}
        lines.append(_("Mailbox: {result}", result=box.message))
    failed = [check for check in (result, box) if check is not None and not check.ok]
    if not failed:
        emit(as_json, data, "\n".join(lines) if box is not None else result.message)
        return
    code = EXIT_CREDENTIALS if any(check.refused for check in failed) else EXIT_BAD_INPUT
    if as_json:
        emit(True, {**data, "error": failed[0].message}, "")
        sys.exit(code)
    fail("\n".join(lines), code)


@scrada.command("pull")
@json_option
@click.pass_obj
def scrada_pull(state: CliState, as_json: bool) -> None:
    """Pull now and wait (exit 1 with errors or quarantined documents, 3 if refused)."""
    from webapp.jobs import JobError
    from webapp.scrada.delivery import JOB_NAME

    services = _unlocked_vault(state, as_json)
    try:
        run_id = services.runner.run(JOB_NAME, origin="command")
    except JobError as exc:
        fail(exc.translated(), as_json=as_json)
    run = history_queries.get_run(services.store, run_id) or {}
    message = i18n.translate_stored(run.get("message"), run.get("params"))
    data = {
        "ok": run.get("status") == "success",
        "run_id": run_id,
        "status": run.get("status"),
        "message": message,
        **(_params(run)),
    }
    emit(as_json, data, f"{history.status_label(str(run.get('status')))}: {message}")
    if run.get("status") == "failed":
        from webapp.scrada.client import REFUSED

        sys.exit(EXIT_CREDENTIALS if run.get("message") == REFUSED else EXIT_ITEMS_FAILED)
    if run.get("status") == "warning":
        sys.exit(EXIT_ITEMS_FAILED)


def _params(run: dict[str, Any]) -> dict[str, Any]:
    import json

    raw = run.get("params")
    values = json.loads(raw) if isinstance(raw, str) and raw else (raw or {})
    return {key: values[key] for key in values if key != "error"}


@scrada.command("status")
@json_option
@click.pass_obj
def scrada_status(state: CliState, as_json: bool) -> None:
    """Per company and book: selected or not, the last delivery, counts, the last error and the
    route that delivers it; then the cash-book continuity problems and Scrada's alerts still open."""
    from webapp.scrada import alerts, config, overview, records, routes

    services = state.services()
    rows = records.status_rows(services.store)
    setup = routes.setup_of(
        config.load(services.store), _vault_if_open(services), services.data_dir
    )
    by_book = routes.routes_by_book(services.store, setup)
    problems = overview.problems(services.store)
    open_alerts = alerts.open_alerts(services.store)
    if as_json:
        data = {
            "books": rows,
            "routes": [route.as_dict() for route in by_book],
            "continuity": [problem.as_dict() for problem in problems],
            "alerts": [overview.alert_dict(alert) for alert in open_alerts],
        }
        emit(True, data, "")
        return
    lines = [
        f"{row['company_name'] or row['company_id']:<30} {row['kind']:<15} {row['book_name']:<24}"
        f" {'x' if row['selected'] else ' '} {row['delivered']:>6} {row['quarantined']:>4}"
        f" {row['last_delivery'] or '-':<20} {row['last_error'] or ''}"
        for row in rows
    ]
    if not lines:
        lines = [_("No company yet: run a pull first.")]
    if by_book:
        lines += ["", _("How each book arrives:"), *routes.routes_summary(by_book)]
    lines += ["", _("Cash-book continuity:")]
    lines += overview.problem_lines(problems) or [_("every cash book follows on.")]
    if open_alerts:
        lines += ["", _("Scrada alerts:"), *(alert.message for alert in open_alerts)]
    emit(False, None, "\n".join(lines))


def _vault_if_open(services: Any) -> Any:
    """The vault, unlocked by RELAIS_VAULT_PASSPHRASE when set (never created, never asked)."""
    from webapp.secrets import VaultError

    try:
        if services.vault.is_initialized:
            services.vault.unlock_from_environment(interactive=False)
    except VaultError:
        pass
    return services.vault


@scrada.command("select")
@click.argument("company_id")
@click.option(
    "--book",
    nargs=2,
    metavar="KIND ID",
    help="One book: daily-receipts|cash-book|peppol-inbound and its id.",
)
@click.option("--off", is_flag=True, help="Untick instead of tick.")
@json_option
@click.pass_obj
def scrada_select(
    state: CliState, company_id: str, book: tuple[str, str] | None, off: bool, as_json: bool
) -> None:
    """Tick (or untick with --off) a company, or one of its books, for the pull."""
    from webapp.scrada import records

    if not records.set_selected(state.services().store, company_id, not off, book or None):
        fail(
            _("No such company or book: {what}", what=" ".join([company_id, *(book or ())])),
            as_json=as_json,
        )
    emit(as_json, {"ok": True, "selected": not off}, _("Saved."))
