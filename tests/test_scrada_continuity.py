"""Cash-book continuity: statement numbers follow each other, balances carry over, per account.

The statements are the corpus's globalisation sample edited in place (number, opening balance and
date; the closing balance moves with the opening one so the file still adds up), so every case is
a CODA file the real validator accepts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from webapp import i18n
from webapp.scrada.continuity import (
    ContinuityProblem,
    StatementFacts,
    compare_current_balance,
    money,
    open_problems,
    record_file,
    record_statement,
    resolve_problem,
    statements_of,
)
from webapp.scrada.formats import InvalidDocument
from webapp.store import Store

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"
GLOBALISATION = "coda/pycoda__Coda_v2_3_globalisation.txt"
MULTI = "coda/pycoda__Coda_v2_3_multi_statements.txt"
FOREIGN = "coda/pycoda__Coda_foreign_account.txt"
SINGLE = "coda/pycoda__Coda_v2_3_single_statement.txt"
UNBALANCED = "coda/oca-l10n-belgium__Ontvangen_CODA.2012-01-11-18.59.15.txt"
ACCOUNT = "BE12341676096039"  # the globalisation sample's record 1 account
PRETTY = "BE12 3416 7609 6039"
NET = Decimal("275725.700")  # the sample's movements: −455.170 + 275725.700 = 275270.530


def corpus(name: str) -> bytes:
    path = CORPUS / name
    assert path.is_file(), f"corpus file missing: {path}"
    return path.read_bytes()


def _amount(value: Decimal) -> str:
    return ("1" if value < 0 else "0") + f"{int(abs(value) * 1000):015d}"


def _put(line: bytes, column: int, text: str) -> bytes:
    edited = line[: column - 1] + text.encode() + line[column - 1 + len(text) :]
    assert len(edited) == len(line)
    return edited


def coda(number: int, old: Decimal, day: date) -> bytes:
    """The globalisation sample as statement `number` of `day`, opening at `old`."""
    lines = corpus(GLOBALISATION).split(b"\n")
    for index, line in enumerate(lines):
        if line[:1] == b"1":
            line = _put(line, 3, f"{number:03d}")
            line = _put(line, 43, _amount(old))
        elif line[:1] == b"8":
            line = _put(line, 2, f"{number:03d}")
            line = _put(line, 42, _amount(old + NET))
            line = _put(line, 58, day.strftime("%d%m%y"))
        lines[index] = line
    return b"\n".join(lines)


def facts(
    number: int, old: str, new: str, year: int = 2026, account: str = ACCOUNT
) -> StatementFacts:
    return StatementFacts(
        account, number, Decimal(old), Decimal(new), date(year, 3, number % 28 + 1)
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "relais.sqlite")


def record(store: Store, *statements: StatementFacts) -> list[ContinuityProblem]:
    found: list[ContinuityProblem] = []
    with store.write() as db:
        for statement in statements:
            found += record_statement(db, statement, "c1")
    return found


def texts(problems: list[ContinuityProblem]) -> list[str]:
    with i18n.language("en"):
        return [problem.translated() for problem in problems]


# --- reading statements ----------------------------------------------------------------------------


def test_statements_of_the_corpus() -> None:
    (one,) = statements_of(corpus(GLOBALISATION))
    assert one == StatementFacts(
        ACCOUNT, 159, Decimal("-455.170"), Decimal("275270.530"), date(2014, 12, 10)
    )
    first, second = statements_of(corpus(MULTI))
    assert (first.account, first.number, second.account, second.number) == (
        "BE86407051416150",
        42,
        "BE12341702625236",
        53,
    )
    (foreign,) = statements_of(corpus(FOREIGN))
    assert (foreign.account, foreign.number) == ("FR1234567890240924002304825", 24)
    assert statements_of(corpus(SINGLE))[0].number == 42


def test_an_edited_statement_keeps_adding_up() -> None:
    (one,) = statements_of(coda(12, Decimal("100.25"), date(2026, 1, 5)))
    assert one == StatementFacts(
        ACCOUNT, 12, Decimal("100.250"), Decimal("100.25") + NET, date(2026, 1, 5)
    )


def test_a_statement_that_does_not_add_up_is_refused() -> None:
    with pytest.raises(InvalidDocument, match="does not add up"):
        statements_of(corpus(UNBALANCED))


def test_a_statement_number_that_is_no_number_records_nothing(store: Store) -> None:
    data = corpus(MULTI)
    lines = data.split(b"\n")
    second = [i for i, line in enumerate(lines) if line[:1] == b"1"][1]
    lines[second] = _put(lines[second], 3, "05X")
    with pytest.raises(InvalidDocument) as caught, store.write() as db:
        record_file(db, b"\n".join(lines), "c1")
    assert caught.value.params["value"] == "05X"
    with store.read() as db:
        assert db.execute("SELECT count(*) FROM scrada_statements").fetchone()[0] == 0


# --- gaps and breaks -------------------------------------------------------------------------------


def test_statements_that_follow_each_other_raise_nothing(store: Store) -> None:
    with store.write() as db:
        for number, old in ((11, Decimal(0)), (12, NET), (13, NET * 2)):
            assert record_file(db, coda(number, old, date(2026, 2, number)), "c1") == []
    assert open_problems(store) == []


def test_a_missing_statement_is_shown_until_it_arrives(store: Store) -> None:
    with store.write() as db:
        record_file(db, coda(11, Decimal(0), date(2026, 2, 11)), "c1")
        (gap,) = record_file(db, coda(13, NET * 2, date(2026, 2, 13)), "c1")
    assert texts([gap]) == [f"statement 12 of {PRETTY} missing between 11 and 13"]
    assert (gap.kind, gap.year, gap.number, gap.company_id) == ("gap", 2026, 13, "c1")
    assert open_problems(store) == [gap]
    with store.write() as db:
        assert record_file(db, coda(12, NET, date(2026, 2, 12)), "c1") == []
    assert open_problems(store) == []


def test_a_wider_gap_narrows_as_statements_arrive(store: Store) -> None:
    (gap,) = record(store, facts(11, "0", "10"), facts(15, "40", "50"))
    assert texts([gap]) == [f"statements 12 to 14 of {PRETTY} missing between 11 and 15"]
    found = record(store, facts(13, "20", "30"))
    assert texts(found) == [
        f"statement 12 of {PRETTY} missing between 11 and 13",
        f"statement 14 of {PRETTY} missing between 13 and 15",
    ]
    assert texts(open_problems(store)) == texts(found)
    record(store, facts(12, "10", "20"), facts(14, "30", "40"))
    assert open_problems(store) == []


def test_a_late_statement_before_the_first_one_shows_the_gap_after_it(store: Store) -> None:
    record(store, facts(13, "20", "30"))
    assert texts(record(store, facts(11, "0", "10"))) == [
        f"statement 12 of {PRETTY} missing between 11 and 13"
    ]


def test_a_balance_break_is_shown_until_resolved_by_hand(store: Store) -> None:
    (problem,) = record(store, facts(11, "0", "100.5"), facts(12, "90", "95"))
    assert texts([problem]) == [
        f"statement 12 of {PRETTY} opens at 90.00 but statement 11 closed at 100.50"
    ]
    assert problem.kind == "break"
    record(store, facts(13, "95", "99"))
    assert open_problems(store) == [problem]
    assert problem.id is not None
    assert resolve_problem(store, problem.id) is True
    assert resolve_problem(store, problem.id) is False
    assert open_problems(store) == []


def test_accounts_are_followed_separately(store: Store) -> None:
    other = "BE71096123456769"
    found = record(
        store, facts(11, "0", "10"), facts(5, "0", "1", account=other), facts(12, "10", "20")
    )
    assert found == []
    (gap,) = record(store, facts(7, "1", "2", account=other))
    assert texts([gap]) == ["statement 6 of BE71 0961 2345 6769 missing between 5 and 7"]
    assert open_problems(store, company_id="c1") == [gap]
    assert open_problems(store, company_id="c2") == []


def test_the_same_statement_twice_is_recorded_once(store: Store) -> None:
    record(store, facts(11, "0", "10"))
    assert record(store, facts(11, "5", "15")) == []
    with store.read() as db:
        rows = db.execute("SELECT old_balance FROM scrada_statements").fetchall()
    assert [row[0] for row in rows] == ["0"]


# --- the year rollover ----------------------------------------------------------------------------


def test_numbers_restart_at_one_each_year(store: Store) -> None:
    with store.write() as db:
        assert record_file(db, coda(250, Decimal(0), date(2025, 12, 31)), "c1") == []
        assert record_file(db, coda(1, NET, date(2026, 1, 2)), "c1") == []
        assert record_file(db, coda(2, NET * 2, date(2026, 1, 3)), "c1") == []
    assert open_problems(store) == []


def test_a_new_year_starting_late_misses_its_first_statements(store: Store) -> None:
    (gap,) = record(store, facts(250, "0", "10", year=2025), facts(3, "30", "40"))
    assert texts([gap]) == [f"statements 1 to 2 of {PRETTY} missing between 250/2025 and 3/2026"]
    assert texts(record(store, facts(1, "10", "20"))) == [
        f"statement 2 of {PRETTY} missing between 1 and 3"
    ]
    assert record(store, facts(2, "20", "30")) == []
    assert open_problems(store) == []


def test_a_break_across_the_new_year_names_both_years(store: Store) -> None:
    (problem,) = record(store, facts(250, "0", "10", year=2025), facts(1, "11", "20"))
    assert texts([problem]) == [
        f"statement 1/2026 of {PRETTY} opens at 11.00 but statement 250/2025 closed at 10.00"
    ]


def test_a_late_last_statement_of_the_year_replaces_the_old_comparison(store: Store) -> None:
    (problem,) = record(store, facts(250, "0", "10", year=2025), facts(1, "11", "20"))
    assert problem.kind == "break"
    assert record(store, facts(251, "10", "11", year=2025)) == []
    assert open_problems(store) == []


def test_statements_years_apart_are_not_compared(store: Store) -> None:
    assert record(store, facts(250, "0", "10", year=2023), facts(40, "99", "100")) == []


# --- Scrada's current balance ----------------------------------------------------------------------


def test_current_balance_against_the_last_statement(store: Store) -> None:
    assert compare_current_balance(store, ACCOUNT, Decimal("5")) is None  # nothing delivered yet
    record(store, facts(11, "0", "10"), facts(12, "10", "20.5"))
    assert compare_current_balance(store, PRETTY, Decimal("20.50")) is None
    problem = compare_current_balance(store, PRETTY, Decimal("25"))
    assert problem is not None
    assert texts([problem]) == [
        f"the current balance of {PRETTY} is 25.00 but its last statement 12 closed at 20.50"
    ]
    assert problem.company_id == "c1"
    again = compare_current_balance(store, ACCOUNT, Decimal("26"))
    assert open_problems(store) == [again]  # the newer difference replaces the older one
    assert compare_current_balance(store, ACCOUNT, Decimal("20.5")) is None
    assert open_problems(store) == []


def test_amounts_in_messages() -> None:
    assert money(Decimal("1.5")) == "1.50"
    assert money(Decimal("1.505")) == "1.505"
