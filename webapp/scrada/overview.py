"""What the Scrada page, the dashboard and `relais scrada status` say about the books, in words:
the open cash-book continuity problems (continuity.py), with the company they concern and what to
do, Scrada's open alerts (alerts.py) for the command line, and the address Scrada's webhooks
must be sent to when the server listens for them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webapp.config import DataDir
from webapp.i18n import N_, gettext
from webapp.scrada import alerts, continuity, records
from webapp.store import Store

WHAT_TO_DO = {
    "gap": N_(
        "Ask Scrada (or the bank) for the missing statements: the warning goes away when they"
        " arrive."
    ),
    "break": N_(
        "Check the statements with the bank or the accountant; once explained, mark it as explained"
        " on the Scrada page."
    ),
    "balance": N_(
        "Synchronise again; if it stays, compare the cash book in Scrada with the last statement."
    ),
}
KIND_TITLES = {
    "gap": N_("Missing statements"),
    "break": N_("Balance does not follow on"),
    "balance": N_("Balance differs from Scrada"),
}

OTHER_TITLE = N_("Cash book")


@dataclass(frozen=True)
class Problem:
    """A continuity problem as shown: translated, with its company's name and what to do."""

    id: int | None
    kind: str
    company_id: str | None
    company_name: str
    account: str
    message: str
    title: str
    what_to_do: str
    resolvable: bool  # only a break is closed by hand; the others close by themselves

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "company_id": self.company_id,
            "company_name": self.company_name,
            "account": self.account,
            "message": self.message,
            "what_to_do": self.what_to_do,
        }


def problems(store: Store) -> list[Problem]:
    names = {company.id: company.name or company.id for company in records.companies(store)}
    return [_shown(problem, names) for problem in continuity.open_problems(store)]


def _shown(problem: continuity.ContinuityProblem, names: dict[str, str]) -> Problem:
    company = problem.company_id
    return Problem(
        id=problem.id,
        kind=problem.kind,
        company_id=company,
        company_name=names.get(company, company or "") if company else "",
        account=problem.account,
        message=problem.translated(),
        title=gettext(KIND_TITLES.get(problem.kind, OTHER_TITLE)),
        what_to_do=gettext(WHAT_TO_DO[problem.kind]) if problem.kind in WHAT_TO_DO else "",
        resolvable=problem.kind == "break",
    )


def problem_lines(shown: list[Problem]) -> list[str]:
    """One line per problem for the terminal."""
    return [f"{p.company_name or p.account}: {p.message}. {p.what_to_do}".rstrip() for p in shown]


def alert_dict(alert: alerts.Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "company_id": alert.company_id,
        "company_name": alert.company_name,
        "journal_id": alert.journal_id,
        "since": alert.since.isoformat(),
        "message": alert.message,
    }


def webhook_url(data_dir: DataDir) -> str | None:
    """The address the running server receives Scrada's webhooks on, or None when it does not
    listen for them. `webhook.json` is written at each start with --webhook-listen; one older
    than the server's own `serve.json` was left by an earlier start."""
    hook, serve = data_dir.path / "webhook.json", data_dir.path / "serve.json"
    try:
        if serve.exists() and hook.stat().st_mtime < serve.stat().st_mtime:
            return None
        url = json.loads(hook.read_text(encoding="utf-8"))["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if isinstance(url, str) else None
