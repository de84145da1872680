"""Back-office import and export (issue 3): every rule, every bad input, through the real importer
and the real command line. Nothing is written when a file is refused."""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Client, relais
from webapp import history_queries
from webapp.backoffice.exporter import export_csv
from webapp.backoffice.importer import ImportProblem, import_csv
from webapp.csvio import CsvError, CsvOptions
from webapp.services import Services
from webapp.store import Store

ARTICLES = """code;label;unit;vat_rate;price_excl_vat;family;barcode;export;tags;stock
VR1;Bourgogne rouge 2021;BT;20;14,50;ROUGES;3760123450010;oui;bio rouge;120
MI1;Miel d'acacia 500 g;U;5,5;8,90;MIEL;;non;;
SV1;Dégustation commentée;H;20;25;SERVICES;;1;;
"""

CUSTOMERS = """code;last_name;first_name;company;email;phone;address;postcode;city;country;vat_number;created_on
C1;Martin;Claire;;claire@example.fr;0380000000;1 rue des Vignes;21200;Beaune;FR;;15/03/2024
C2;;;Cave des Ducs;cave@example.be;;2 place Royale;1000;Bruxelles;Belgique;BE 0403.170.701;2024-01-02
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(store: Store, sql: str, *params: Any) -> list[dict[str, Any]]:
    with store.read() as db:
        return [dict(row) for row in db.query(sql, params)]


def count(store: Store, table: str) -> int:
    with store.read() as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def articles(store: Store) -> dict[str, dict[str, Any]]:
    found = rows(
        store,
        "SELECT a.code, a.label, u.code AS unit, v.code AS vat, f.code AS family, a.barcode,"
        " a.export, a.tags, p.price_excl_vat AS price, s.quantity AS stock, a.updated_at"
        " FROM articles a JOIN units u ON u.id = a.unit_id JOIN vat_rates v ON v.id = a.vat_rate_id"
        " LEFT JOIN article_families f ON f.id = a.family_id"
        " LEFT JOIN article_prices p ON p.article_id = a.id"
        " AND p.price_category_id = (SELECT id FROM price_categories WHERE is_default = 1)"
        " LEFT JOIN stock s ON s.article_id = a.id",
    )
    return {row["code"]: row for row in found}


# -- a fresh data folder ---------------------------------------------------------------------


def test_fresh_data_folder_has_the_defaults(services: Services) -> None:
    store = services.store
    companies = rows(store, "SELECT code FROM companies WHERE is_default = 1")
    assert len(companies) == 1
    assert rows(store, "SELECT code FROM payment_methods WHERE is_cash = 1")
    rates = {(row["country"], row["rate"]) for row in rows(store, "SELECT * FROM vat_rates")}
    assert {("BE", 21), ("BE", 6), ("BE", 12), ("FR", 20), ("FR", 5.5), ("FR", 10)} <= rates
    units = {row["code"] for row in rows(store, "SELECT code FROM units")}
    assert {"U", "KG", "L", "BT"} <= units
    assert count(store, "countries") >= 249


# -- articles --------------------------------------------------------------------------------


def test_import_articles(services: Services, tmp_path: Path) -> None:
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", ARTICLES))
    assert report.committed and report.errors_total == 0
    assert (report.rows, report.created, report.updated) == (3, 3, 0)
    found = articles(services.store)
    assert found["VR1"]["price"] == 14.5 and found["VR1"]["vat"] == "FR20"
    assert found["VR1"]["family"] == "ROUGES" and found["VR1"]["stock"] == 120
    assert found["VR1"]["tags"] == "bio rouge" and found["VR1"]["barcode"] == "3760123450010"
    assert found["MI1"]["vat"] == "FR5.5" and found["MI1"]["export"] == 0
    assert found["SV1"]["unit"] == "H"
    assert "article_families:ROUGES" in report.created_references


def test_reimport_updates_and_never_duplicates(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", ARTICLES)
    import_csv(services.store, "articles", path)
    before = articles(services.store)
    again = import_csv(services.store, "articles", path)
    assert (again.created, again.updated) == (0, 3)
    assert count(services.store, "articles") == 3
    assert articles(services.store) == before, "an unchanged row is not touched"
    changed = ARTICLES.replace("14,50", "15,20").replace("vr1", "VR1")
    import_csv(services.store, "articles", write(tmp_path, "b.csv", changed.replace("VR1", "vr1")))
    after = articles(services.store)
    assert count(services.store, "articles") == 3, "codes are matched without regard to case"
    assert after["VR1"]["price"] == 15.2
    assert after["MI1"]["updated_at"] == before["MI1"]["updated_at"]


def test_columns_in_any_order_with_french_names(services: Services, tmp_path: Path) -> None:
    text = "Prix HT;TVA;Libellé;Unité;CODE;Famille\n12,5;20;Chablis;bt;CH1;BLANCS\n"
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    assert report.committed, report.as_dict()
    assert articles(services.store)["CH1"]["price"] == 12.5


def test_unknown_columns_are_reported_not_fatal(services: Services, tmp_path: Path) -> None:
    text = "".join(line + ";red\n" for line in ARTICLES.splitlines()).replace("red", "colour", 1)
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    assert report.committed
    assert report.ignored_columns == ["colour"]


def test_missing_required_columns_name_them(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "code;label;unit\nA;B;U\n")
    with pytest.raises(ImportProblem) as caught:
        import_csv(services.store, "articles", path)
    assert caught.value.line == 1
    assert "vat_rate, price_excl_vat" in caught.value.translated()
    assert count(services.store, "articles") == 0


def test_a_column_given_twice_is_refused(services: Services, tmp_path: Path) -> None:
    text = "code;label;libellé;unit;vat_rate;price_excl_vat\nA;B;C;U;20;1\n"
    with pytest.raises(ImportProblem) as caught:
        import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    assert "libellé" in caught.value.translated()


BAD_ARTICLES = """code;label;unit;vat_rate;price_excl_vat;barcode;stock
OK1;Good one;U;20;10;;
B1;Bad price;U;20;dix;;
B2;;U;20;10;;
B3;Unknown unit;CAISSE;20;10;;
B4;Unknown VAT;U;19;10;;
B5;Home country first;U;0;10;;
B6;Negative;U;20;-5;;
B7;Bad EAN;U;20;10;3760123450017;
B8;Point in a comma file;U;20;10.5;;
OK2;Second good;U;20;12,5;;
OK1;Same code again;U;20;10;;
B9;Too many;U;20;10;;;extra
B10;Too few;U
"""


def test_all_or_nothing_names_every_bad_row(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", BAD_ARTICLES)
    report = import_csv(services.store, "articles", path)
    assert not report.committed
    assert count(services.store, "articles") == 0, "nothing is written"
    assert count(services.store, "article_families") == 0
    where = {(error.line, error.column) for error in report.errors}
    assert where == {
        (3, "price_excl_vat"),
        (4, "label"),
        (5, "unit"),
        (6, "vat_rate"),
        (8, "price_excl_vat"),
        (9, "barcode"),
        (10, "price_excl_vat"),
        (12, "code"),
        (13, None),
        (14, None),
    }
    messages = {error.line: error.translated() for error in report.errors}
    assert "dix" in messages[3]
    assert "CAISSE" in messages[5]
    assert next(error for error in report.errors if error.line == 12).params["first"] == 2
    assert (report.created, report.updated, report.rejected) == (0, 0, 10)


def test_skip_bad_imports_the_good_rows(services: Services, tmp_path: Path) -> None:
    report = import_csv(
        services.store, "articles", write(tmp_path, "bad.csv", BAD_ARTICLES), skip_bad=True
    )
    assert report.committed
    assert set(articles(services.store)) == {"OK1", "OK2", "B5"}
    assert articles(services.store)["B5"]["vat"] == "FR0", "the home country's rate wins"
    assert articles(services.store)["OK2"]["price"] == 12.5
    assert (report.created, report.rejected, report.errors_total) == (3, 10, 10)


def test_dry_run_writes_nothing_but_reports_the_same(services: Services, tmp_path: Path) -> None:
    report = import_csv(
        services.store, "articles", write(tmp_path, "a.csv", ARTICLES), dry_run=True
    )
    assert not report.committed and report.created == 3
    assert count(services.store, "articles") == 0
    assert count(services.store, "article_families") == 0
    assert count(services.store, "runs") == 0


def test_an_ambiguous_vat_rate_asks_for_the_code(services: Services, tmp_path: Path) -> None:
    with services.store.write() as db:
        db.execute(
            "INSERT INTO vat_rates (code, label, rate, country) VALUES ('FR0X', 'x', 0, 'FR')"
        )
    text = "code;label;unit;vat_rate;price_excl_vat\nA;B;U;0;1\n"
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    assert [(error.line, error.column) for error in report.errors] == [(2, "vat_rate")]
    assert "FR0, FR0X" in report.errors[0].translated()


def test_vat_code_column_wins_and_decimal_point_files(services: Services, tmp_path: Path) -> None:
    text = 'code,label,unit,vat_rate,vat_code,price_excl_vat\nB1,Bière,U,0,BE21,"1,234.50"\n'
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    assert report.committed, report.as_dict()
    found = articles(services.store)["B1"]
    assert (found["vat"], found["price"]) == ("BE21", 1234.5)


def test_other_price_categories_by_column(services: Services, tmp_path: Path) -> None:
    with services.store.write() as db:
        db.execute("INSERT INTO price_categories (code, label) VALUES ('PRO', 'Professionnels')")
    text = "code;label;unit;vat_rate;price_excl_vat;price_pro\nA;B;U;20;10;8,5\n"
    import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    prices = rows(
        services.store,
        "SELECT c.code, p.price_excl_vat FROM article_prices p"
        " JOIN price_categories c ON c.id = p.price_category_id ORDER BY c.code",
    )
    assert [(row["code"], row["price_excl_vat"]) for row in prices] == [("PRO", 8.5), ("STD", 10)]


def test_windows_1252_tab_file(services: Services, tmp_path: Path) -> None:
    text = "code\tlibellé\tunité\ttva\tprix_ht\r\nM1\tMâcon-Villages\tBT\t20\t9,90\r\n"
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", text, "cp1252"))
    assert report.format["encoding"] == "windows-1252"
    assert report.format["delimiter"] == "tab"
    assert articles(services.store)["M1"]["label"] == "Mâcon-Villages"


def test_forced_wrong_encoding_is_a_clear_error(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", ARTICLES.replace("Dégustation", "Dégustation"), "cp1252")
    with pytest.raises(CsvError) as caught:
        import_csv(services.store, "articles", path, CsvOptions(encoding="utf-8"))
    assert caught.value.line == 4
    assert count(services.store, "articles") == 0


def test_a_10_mb_field_refuses_the_file(services: Services, tmp_path: Path) -> None:
    text = ARTICLES + "BIG;" + "x" * 10_000_000 + ";U;20;1;;;;;\n"
    with pytest.raises(CsvError) as caught:
        import_csv(services.store, "articles", write(tmp_path, "big.csv", text))
    assert caught.value.line == 5
    assert count(services.store, "articles") == 0


def test_a_long_label_is_a_row_error(services: Services, tmp_path: Path) -> None:
    text = ARTICLES + "LONG;" + "x" * 5000 + ";U;20;1;;;;;\n"
    report = import_csv(services.store, "articles", write(tmp_path, "a.csv", text), skip_bad=True)
    assert [(error.line, error.column) for error in report.errors] == [(5, "label")]
    assert "5000" in report.errors[0].translated()


def test_empty_and_header_only_files(services: Services, tmp_path: Path) -> None:
    with pytest.raises(CsvError):
        import_csv(services.store, "articles", write(tmp_path, "e.csv", ""))
    header = ARTICLES.splitlines()[0] + "\n"
    report = import_csv(services.store, "articles", write(tmp_path, "h.csv", header))
    assert report.committed and report.rows == 0


def test_formula_guard_is_undone_on_import(services: Services, tmp_path: Path) -> None:
    text = "code;label;unit;vat_rate;price_excl_vat\nF1;'=1+1 offert;U;20;1\n"
    import_csv(services.store, "articles", write(tmp_path, "a.csv", text))
    assert articles(services.store)["F1"]["label"] == "=1+1 offert"


def test_unknown_kind(services: Services, tmp_path: Path) -> None:
    with pytest.raises(ImportProblem):
        import_csv(services.store, "planets", write(tmp_path, "a.csv", ARTICLES))


def test_the_import_is_in_the_history(services: Services, tmp_path: Path) -> None:
    import_csv(services.store, "articles", write(tmp_path, "bad.csv", BAD_ARTICLES))
    run = history_queries.recent_runs(services.store, limit=1)[0]
    assert run["job_name"] == "backoffice_import" and run["status"] == "failed"
    items = history_queries.run_items(services.store, run["id"])
    assert len(items) == 10
    assert {item["reference"] for item in items} >= {"bad.csv:3", "bad.csv:14"}


# -- customers, suppliers, contacts ----------------------------------------------------------


def test_import_customers(services: Services, tmp_path: Path) -> None:
    report = import_csv(services.store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    assert report.committed, report.as_dict()
    found = {row["code"]: row for row in rows(services.store, "SELECT * FROM parties")}
    assert found["C1"]["kind"] == "customer" and found["C1"]["created_on"] == "2024-03-15"
    assert found["C2"]["country"] == "BE" and found["C2"]["vat_number"] == "BE0403170701"
    assert found["C2"]["created_on"] == "2024-01-02"


def test_customers_and_suppliers_are_apart(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", CUSTOMERS)
    import_csv(services.store, "customers", path)
    import_csv(services.store, "suppliers", path)
    kinds = rows(services.store, "SELECT kind, count(*) AS n FROM parties GROUP BY kind")
    assert {(row["kind"], row["n"]) for row in kinds} == {("customer", 2), ("supplier", 2)}


BAD_CUSTOMERS = CUSTOMERS + (
    "C3;Durand;;;pas-un-mail;;;;;FR;;\n"
    "C4;Dupont;;;;;;;;Atlantide;;\n"
    "C5;Petit;;;;;;;;BE;BE0403170702;\n"
    "C6;Grand;;;;;;;;FR;FR12345678901;\n"
    "C7;;;;;;;;;FR;;\n"
    "C8;Lune;;;;;;;;FR;;31/02/2024\n"
    "C9;Soleil;;;;;;;;FR;;demain\n"
)


def test_bad_customers(services: Services, tmp_path: Path) -> None:
    report = import_csv(services.store, "customers", write(tmp_path, "c.csv", BAD_CUSTOMERS))
    assert not report.committed
    assert count(services.store, "parties") == 0
    assert {(error.line, error.column) for error in report.errors} == {
        (4, "email"),
        (5, "country"),
        (6, "vat_number"),
        (7, "vat_number"),
        (8, "last_name"),
        (9, "created_on"),
        (10, "created_on"),
    }


def test_customers_need_every_listed_column(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "code;last_name\nC1;Martin\n")
    with pytest.raises(ImportProblem) as caught:
        import_csv(services.store, "customers", path)
    assert "first_name" in caught.value.translated()


def test_contacts(services: Services, tmp_path: Path) -> None:
    import_csv(services.store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    text = "customer_code;contact_no;last_name;first_name;role\nC2;;Lambert;Paul;Sommelier\nC2;;Roy;Anne;Achats\nC9;;X;;\n"
    report = import_csv(services.store, "contacts", write(tmp_path, "k.csv", text), skip_bad=True)
    assert [(error.line, error.column) for error in report.errors] == [(4, "customer_code")]
    found = rows(services.store, "SELECT contact_no, last_name FROM contacts ORDER BY contact_no")
    assert [(row["contact_no"], row["last_name"]) for row in found] == [(1, "Lambert"), (2, "Roy")]


# -- registers, users, VAT rates, units ------------------------------------------------------


def test_registers_then_users_with_their_registers(services: Services, tmp_path: Path) -> None:
    registers = "number;label\n1;Caisse boutique\n2;Caisse salon\n"
    assert import_csv(services.store, "registers", write(tmp_path, "r.csv", registers)).committed
    users = "code;name;registers\nMARIE;Marie;1 2\nLEO;Léo;2\nZOE;Zoé;\n"
    assert import_csv(services.store, "users", write(tmp_path, "u.csv", users)).committed
    links = rows(
        services.store,
        "SELECT u.code, r.number FROM pos_user_registers ur JOIN pos_users u ON u.id = ur.user_id"
        " JOIN pos_registers r ON r.id = ur.register_id ORDER BY u.code, r.number",
    )
    assert [(row["code"], row["number"]) for row in links] == [
        ("LEO", 2),
        ("MARIE", 1),
        ("MARIE", 2),
    ]
    prefixes = rows(services.store, "SELECT ticket_prefix FROM pos_registers ORDER BY number")
    assert [row["ticket_prefix"] for row in prefixes] == ["C1-", "C2-"]
    import_csv(
        services.store, "users", write(tmp_path, "u2.csv", "code;name;registers\nMARIE;Marie;2\n")
    )
    marie = rows(
        services.store,
        "SELECT r.number FROM pos_user_registers ur JOIN pos_users u ON u.id = ur.user_id"
        " JOIN pos_registers r ON r.id = ur.register_id WHERE u.code = 'MARIE'",
    )
    assert [row["number"] for row in marie] == [2], "the file's list replaces the old one"


def test_users_on_an_unknown_register(services: Services, tmp_path: Path) -> None:
    report = import_csv(
        services.store, "users", write(tmp_path, "u.csv", "code;name;registers\nA;A;7\nB;B;x\n")
    )
    assert [(error.line, error.column) for error in report.errors] == [
        (2, "registers"),
        (3, "registers"),
    ]
    assert count(services.store, "pos_users") == 0


def test_vat_rates_and_units(services: Services, tmp_path: Path) -> None:
    vat = "code;label;rate;country;valid_from;valid_to\nLU17;TVA 17 % (LU);17;LU;01/01/2024;\nBAD;Bad;120;FR;;\nOLD;Old;5;FR;01/01/2024;01/01/2020\n"
    report = import_csv(services.store, "vat_rates", write(tmp_path, "v.csv", vat), skip_bad=True)
    assert [(error.line, error.column) for error in report.errors] == [(3, "rate"), (4, "valid_to")]
    found = rows(services.store, "SELECT * FROM vat_rates WHERE code = 'LU17'")[0]
    assert (found["rate"], found["country"], found["valid_from"]) == (17, "LU", "2024-01-01")
    units = "code;label;decimals\nDL;Décilitre;1\nXX;Bad;9\n"
    report = import_csv(services.store, "units", write(tmp_path, "n.csv", units), skip_bad=True)
    assert [(error.line, error.column) for error in report.errors] == [(3, "decimals")]
    assert rows(services.store, "SELECT decimals FROM units WHERE code = 'DL'") == [{"decimals": 1}]


# -- export ----------------------------------------------------------------------------------


def test_export_then_reimport_is_the_same(services: Services, tmp_path: Path) -> None:
    hostile = ARTICLES + 'EVIL;"=HYPERLINK(""http://x"")";U;20;1;;;1;;\n'
    import_csv(services.store, "articles", write(tmp_path, "a.csv", hostile))
    import_csv(services.store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    before_articles = articles(services.store)
    before_parties = rows(services.store, "SELECT * FROM parties ORDER BY code")
    out = tmp_path / "out"
    export_csv(services.store, "articles", out / "articles.csv")
    export_csv(services.store, "customers", out / "customers.csv")
    data = (out / "articles.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcode;label;unit;vat_rate;price_excl_vat")
    assert "'=HYPERLINK" in data.decode("utf-8-sig")
    assert ";14,50;" in data.decode("utf-8-sig")
    for kind in ("articles", "customers"):
        report = import_csv(services.store, kind, out / f"{kind}.csv")
        assert report.committed and report.created == 0, report.as_dict()
    assert articles(services.store) == before_articles
    assert rows(services.store, "SELECT * FROM parties ORDER BY code") == before_parties


@pytest.mark.parametrize(
    "kind", ["contacts", "users", "registers", "vat_rates", "units", "suppliers"]
)
def test_every_kind_exports_and_imports_back(services: Services, tmp_path: Path, kind: str) -> None:
    import_csv(services.store, "customers", write(tmp_path, "c.csv", CUSTOMERS))
    import_csv(services.store, "suppliers", write(tmp_path, "s.csv", CUSTOMERS))
    import_csv(
        services.store, "contacts", write(tmp_path, "k.csv", "customer_code;last_name\nC1;Roy\n")
    )
    import_csv(services.store, "registers", write(tmp_path, "r.csv", "number;label\n1;A\n"))
    import_csv(services.store, "users", write(tmp_path, "u.csv", "code;name;registers\nU;U;1\n"))
    path = tmp_path / f"{kind}.csv"
    exported = export_csv(services.store, kind, path, CsvOptions(delimiter=",", decimal="."))
    assert exported.rows > 0
    report = import_csv(services.store, kind, path)
    assert report.committed and report.created == 0 and report.errors_total == 0, report.as_dict()
    assert report.updated == exported.rows


# -- the real command line -------------------------------------------------------------------


def test_cli_import_exit_codes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    bad = write(tmp_path, "bad.csv", BAD_ARTICLES)
    refused = relais("backoffice", "import", "articles", str(bad), "--json", data_dir=data)
    assert refused.returncode == 2, refused.stderr
    report = json.loads(refused.stdout)
    assert report["committed"] is False and report["errors_total"] == 10
    assert {"line": 3, "column": "price_excl_vat"}.items() <= report["errors"][0].items()
    partial = relais("backoffice", "import", "articles", str(bad), "--skip-bad", data_dir=data)
    assert partial.returncode == 1
    assert "ligne 3" in partial.stdout, "French by default"
    good = relais(
        "backoffice", "import", "articles", str(write(tmp_path, "a.csv", ARTICLES)), data_dir=data
    )
    assert good.returncode == 0, good.stderr
    missing = relais("backoffice", "import", "articles", str(tmp_path / "nope.csv"), data_dir=data)
    assert missing.returncode == 2 and "nope.csv" in missing.stderr
    empty = relais(
        "backoffice", "import", "customers", str(write(tmp_path, "e.csv", "")), data_dir=data
    )
    assert empty.returncode == 2


def test_cli_export_and_options(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = write(tmp_path, "a.csv", ARTICLES.replace(";", "\t").replace(",", "."))
    result = relais(
        "backoffice",
        "import",
        "articles",
        str(path),
        "--delimiter",
        "tab",
        "--decimal",
        ".",
        "--json",
        data_dir=data,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["created"] == 3
    out = tmp_path / "export.csv"
    exported = relais(
        "backoffice",
        "export",
        "articles",
        str(out),
        "--delimiter",
        ",",
        "--decimal",
        ".",
        "--encoding",
        "utf-8",
        "--json",
        data_dir=data,
    )
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["rows"] == 3
    text = out.read_text(encoding="utf-8")
    assert text.startswith("code,label,") and ",14.50," in text
    kinds = relais("backoffice", "kinds", "--json", data_dir=data)
    assert set(json.loads(kinds.stdout)) >= {
        "articles",
        "customers",
        "suppliers",
        "contacts",
        "users",
        "registers",
        "vat_rates",
        "units",
    }


# -- files a fuzzer made crash: each is refused with its line and column, nothing written ------

CRASHING_FILES = {
    "bom-then-cp1252.csv": codecs.BOM_UTF8 + "code;label\nA1;Mâcon\n".encode("cp1252"),
    "odd-utf16.csv": codecs.BOM_UTF16_LE + "code;label\nA1;x\n".encode("utf-16-le") + b"A",
    "long-header.csv": b"code;" + b"x" * 200_000 + b"\nA;b\n",
}


@pytest.mark.parametrize("name", CRASHING_FILES)
def test_cli_refuses_a_file_that_used_to_crash(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(CRASHING_FILES[name])
    result = relais("backoffice", "import", "articles", str(path), data_dir=tmp_path / "data")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert name in result.stderr and re.search(r"(column|colonne) \d", result.stderr), result.stderr


@pytest.mark.parametrize(
    ("column", "value"),
    [("price_excl_vat", "1234567890123456789012345"), ("stock", "12345678901234567890123456")],
)
def test_numbers_over_the_limit_are_refused_rows(
    services: Services, tmp_path: Path, column: str, value: str
) -> None:
    values = {"price_excl_vat": "10", "stock": "1", column: value}
    text = "code;label;unit;vat_rate;price_excl_vat;stock\n"
    text += f"A1;x;U;20;{values['price_excl_vat']};{values['stock']}\n"
    report = import_csv(services.store, "articles", write(tmp_path, "big.csv", text))
    assert not report.committed and count(services.store, "articles") == 0
    assert [(error.line, error.column) for error in report.errors] == [(2, column)]
    assert "limit" in report.errors[0].message


def test_cli_numbers_over_the_limit_exit_2(tmp_path: Path) -> None:
    text = "code;label;unit;vat_rate;price_excl_vat\nA1;x;U;20;1234567890123456789012345\n"
    result = relais(
        "backoffice",
        "import",
        "articles",
        str(write(tmp_path, "p.csv", text)),
        "--json",
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["errors"][0]["column"] == "price_excl_vat"


def test_upload_of_a_file_that_used_to_crash_is_refused_clearly(
    client: Client, services: Services
) -> None:
    response = client.post(
        "/backoffice/import",
        data={"kind": "articles"},
        files={"file": ("bom.csv", CRASHING_FILES["bom-then-cp1252.csv"], "text/csv")},
        headers={"x-csrftoken": client.token(), "HX-Request": "true"},
    )
    assert response.status_code == 422, "refused before its columns are mapped"
    html = response.text
    assert 'role="alert"' in html
    assert "inattendue" not in html and re.search(r"(column|colonne) 5", html), html
    assert not list((services.data_dir.path / "imports").glob("upload-*")), "nothing kept"
