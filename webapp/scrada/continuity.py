"""Cash-book continuity: per account, statement numbers follow each other and each statement opens
at the balance the previous one closed at. A missing statement or a balance that jumps means the
accountant's books are wrong, so it is shown (Scrada page, dashboard, `scrada status`) until fixed.

Rules (and why):
- Statements are keyed by account, year and number: CODA statement numbers restart at 1 each
  year, so the year of the statement's (new-balance) date is part of its number.
- Two statements are compared only when they are neighbours in that order. Same year, numbers
  n and m > n + 1: a gap (n + 1 … m − 1 missing). Year Y then Y + 1 starting above 1: a gap
  (1 … m − 1 of Y + 1). Consecutive (or year Y's last then Y + 1's number 1): a break when the
  old balance is not the previous new balance. Further apart than one year: nothing is said,
  the number of statements of the years between is unknown.
- A problem belongs to the later statement of its pair. When a statement arrives between two
  recorded ones (it was missing, or came late), the problems of its later neighbour are resolved
  and both new pairs are checked again: a gap stays exactly until its missing statements arrive.
- The same statement twice (same account, year, number) is recorded once; the first one stays.
- A break stays until resolved by hand (`resolve_problem`): nothing later can explain it.

Interface:
    statements_of(data) -> list[StatementFacts]          every statement of a CODA file
    record_statement(db, facts, company_id) -> list[ContinuityProblem]   in the delivery's transaction
    record_file(db, data, company_id) -> list[ContinuityProblem]          statements_of + record each
    open_problems(store, company_id=None) -> list[ContinuityProblem]
    compare_current_balance(store, account, current_balance, company_id=None) -> problem | None
    resolve_problem(store, problem_id) -> bool
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from webapp.clock import now_iso
from webapp.i18n import N_, gettext
from webapp.scrada import formats
from webapp.scrada.identify import normalise_iban, pretty_iban
from webapp.store import Store

GAP_ONE = N_("statement {number} of {account} missing between {before} and {after}")
GAP_MANY = N_("statements {first} to {last} of {account} missing between {before} and {after}")
BREAK = N_(
    "statement {number} of {account} opens at {old} but statement {previous} closed at {new}"
)
BALANCE = N_(
    "the current balance of {account} is {current} but its last statement {number} closed at {new}"
)


@dataclass(frozen=True)
class StatementFacts:
    account: str  # compact IBAN, or the foreign account as the file writes it
    number: int
    old_balance: Decimal
    new_balance: Decimal
    date: date

    @property
    def year(self) -> int:
        return self.date.year


@dataclass(frozen=True)
class ContinuityProblem:
    kind: str  # 'gap', 'break', 'balance'
    account: str
    message: str  # English msgid
    params: dict[str, str] = field(default_factory=dict)
    year: int | None = None  # the later statement of the pair (gap, break); None for 'balance'
    number: int | None = None
    company_id: str | None = None
    id: int | None = None

    def translated(self) -> str:
        return gettext(self.message, **self.params)


def statements_of(data: bytes) -> list[StatementFacts]:
    """The statements of a CODA file, in file order; formats.InvalidDocument if it is not valid."""
    facts = []
    for statement in formats.check_coda(data).statements:
        if not (statement.sequence.isascii() and statement.sequence.isdigit()):
            raise formats.InvalidDocument(
                N_("The statement number {value} of {account} is not a number."),
                value=statement.sequence,
                account=statement.account,
            )
        account = normalise_iban(statement.account) or statement.account.replace(" ", "")
        facts.append(
            StatementFacts(
                account,
                int(statement.sequence),
                statement.old_balance,
                statement.new_balance,
                statement.date,
            )
        )
    return facts


def record_file(db: Database, data: bytes, company_id: str) -> list[ContinuityProblem]:
    problems: list[ContinuityProblem] = []
    for facts in statements_of(data):
        problems.extend(record_statement(db, facts, company_id))
    return problems


def record_statement(
    db: Database, facts: StatementFacts, company_id: str
) -> list[ContinuityProblem]:
    """Remember a delivered statement and return the problems it reveals (see the module doc)."""
    key = [facts.account, facts.year, facts.number]
    if db.execute(
        "SELECT 1 FROM scrada_statements WHERE account = ? AND year = ? AND number = ?", key
    ).fetchone():
        return []
    previous = _neighbour(db, facts, before=True)
    following = _neighbour(db, facts, before=False)
    if following is not None:
        _resolve_at(db, facts.account, following)
    db.execute(
        "INSERT INTO scrada_statements (account, year, number, company_id, statement_date,"
        " old_balance, new_balance, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            *key,
            company_id,
            facts.date.isoformat(),
            str(facts.old_balance),
            str(facts.new_balance),
            now_iso(),
        ],
    )
    found = []
    if previous is not None:
        found += _check_pair(previous, facts)
    if following is not None:
        found += _check_pair(facts, following)
    return [_insert_problem(db, problem, company_id) for problem in found]


def _neighbour(db: Database, facts: StatementFacts, *, before: bool) -> StatementFacts | None:
    compare, order = ("<", "DESC") if before else (">", "ASC")
    row = db.execute(
        "SELECT number, old_balance, new_balance, statement_date FROM scrada_statements"
        f" WHERE account = ? AND (year, number) {compare} (?, ?)"
        f" ORDER BY year {order}, number {order} LIMIT 1",
        [facts.account, facts.year, facts.number],
    ).fetchone()
    if row is None:
        return None
    return StatementFacts(
        facts.account, int(row[0]), Decimal(row[1]), Decimal(row[2]), date.fromisoformat(row[3])
    )


def _resolve_at(db: Database, account: str, statement: StatementFacts) -> None:
    db.execute(
        "UPDATE scrada_continuity_problems SET resolved_at = ? WHERE account = ? AND year = ?"
        " AND number = ? AND kind IN ('gap', 'break') AND resolved_at IS NULL",
        [now_iso(), account, statement.year, statement.number],
    )


def _check_pair(earlier: StatementFacts, later: StatementFacts) -> list[ContinuityProblem]:
    """The problem between two neighbouring statements, if any (rules in the module doc)."""
    if later.year == earlier.year:
        first = earlier.number + 1
    elif later.year == earlier.year + 1:
        first = 1  # the new year starts again at 1
    else:
        return []
    last = later.number - 1
    if last >= first:
        return [_gap(earlier, later, first, last)]
    if later.old_balance != earlier.new_balance:
        params = {
            "number": _label(later, earlier),
            "account": pretty_iban(later.account),
            "old": money(later.old_balance),
            "previous": _label(earlier, later),
            "new": money(earlier.new_balance),
        }
        return [ContinuityProblem("break", later.account, BREAK, params, later.year, later.number)]
    return []


def _gap(
    earlier: StatementFacts, later: StatementFacts, first: int, last: int
) -> ContinuityProblem:
    params = {
        "account": pretty_iban(later.account),
        "before": _label(earlier, later),
        "after": _label(later, earlier),
    }
    if first == last:
        params["number"] = str(first)
        return ContinuityProblem("gap", later.account, GAP_ONE, params, later.year, later.number)
    params.update(first=str(first), last=str(last))
    return ContinuityProblem("gap", later.account, GAP_MANY, params, later.year, later.number)


def _label(statement: StatementFacts, other: StatementFacts) -> str:
    """A statement's number, with its year when the other statement is of another year."""
    if statement.year == other.year:
        return str(statement.number)
    return f"{statement.number}/{statement.year}"


def _insert_problem(
    db: Database, problem: ContinuityProblem, company_id: str | None
) -> ContinuityProblem:
    cursor = db.execute(
        "INSERT INTO scrada_continuity_problems (account, company_id, kind, year, number,"
        " message, params, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            problem.account,
            company_id,
            problem.kind,
            problem.year,
            problem.number,
            problem.message,
            json.dumps(problem.params, ensure_ascii=False),
            now_iso(),
        ],
    )
    return replace(problem, company_id=company_id, id=int(cursor.lastrowid or 0))


def open_problems(store: Store, company_id: str | None = None) -> list[ContinuityProblem]:
    """Problems not resolved yet, oldest first (for the Scrada page, the dashboard, the status)."""
    where, params = ("AND company_id = ?", [company_id]) if company_id else ("", [])
    with store.read() as db:
        rows = db.execute(
            "SELECT id, kind, account, message, params, year, number, company_id FROM"
            f" scrada_continuity_problems WHERE resolved_at IS NULL {where}"
            " ORDER BY account, year, number, id",
            params,
        ).fetchall()
    return [_problem(row) for row in rows]


def _problem(row: Any) -> ContinuityProblem:
    return ContinuityProblem(
        kind=row["kind"],
        account=row["account"],
        message=row["message"],
        params=json.loads(row["params"]),
        year=row["year"],
        number=row["number"],
        company_id=row["company_id"],
        id=int(row["id"]),
    )


def compare_current_balance(
    store: Store, account: str, current_balance: Decimal, company_id: str | None = None
) -> ContinuityProblem | None:
    """Compare Scrada's `currentBalance` of a cash book with its last statement. A difference is
    kept as an open problem (replacing an earlier one); an agreement resolves it. None when they
    agree or when no statement of the account was delivered yet."""
    compact = normalise_iban(account) or account.replace(" ", "")
    with store.write() as db:
        db.execute(
            "UPDATE scrada_continuity_problems SET resolved_at = ? WHERE account = ?"
            " AND kind = 'balance' AND resolved_at IS NULL",
            [now_iso(), compact],
        )
        row = db.execute(
            "SELECT number, new_balance, company_id FROM scrada_statements WHERE account = ?"
            " ORDER BY year DESC, number DESC LIMIT 1",
            [compact],
        ).fetchone()
        if row is None or Decimal(row[1]) == current_balance:
            return None
        params = {
            "account": pretty_iban(compact),
            "current": money(current_balance),
            "number": str(row[0]),
            "new": money(Decimal(row[1])),
        }
        problem = ContinuityProblem("balance", compact, BALANCE, params)
        return _insert_problem(db, problem, company_id or row[2])


def resolve_problem(store: Store, problem_id: int) -> bool:
    """Mark a problem as dealt with (a break explained by the accountant); False if none open."""
    with store.write() as db:
        cursor = db.execute(
            "UPDATE scrada_continuity_problems SET resolved_at = ? WHERE id = ?"
            " AND resolved_at IS NULL",
            [now_iso(), problem_id],
        )
        return bool(cursor.rowcount)


def money(amount: Decimal) -> str:
    """Two decimals unless the third (CODA has three) is used."""
    two = amount.quantize(Decimal("0.01"))
    return f"{two}" if two == amount else f"{amount}"
