"""Correspondences in a CSV file (issue 14): export then import gives the same correspondences, bad
lines are refused with their line and column and nothing is written, a file of 5,000 lines is one
step, and the command line (`relais connector mappings CODE --import/--export`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from webapp import i18n
from webapp.backoffice.importer import import_csv
from webapp.backoffice.row_checks import ImportProblem
from webapp.cli import main
from webapp.csvio import CsvError
from webapp.econnector import connectors, mappings
from webapp.econnector.mapping_files import export_mapping_file, read_mapping_file
from webapp.econnector.mapping_identical import map_identical, parse_code_list, waiting_codes
from webapp.econnector.mapping_import import import_mapping_file
from webapp.services import Services

ARTICLES = """code;label;unit;vat_rate;price_excl_vat;tags;stock;barcode
VR1;Bourgogne rouge;BT;20;12,5;vin pub;10;3017620422003
MI1;Miel;U;5,5;8;;3;
SV1;Dégustation;H;20;20;pub;;
"""
CUSTOMERS = """code;last_name;first_name;company;email;phone;address;postcode;city;country;vat_number
ANDPA;André;Patrick;;patrick@example.fr;;1 rue;59950;Auby;FR;
CAVE;;;Cave des Ducs;cave@example.fr;;2 rue;21200;Beaune;FR;
"""


@pytest.fixture
def shop(services: Services, tmp_path: Path) -> tuple[Services, connectors.Connector]:
    for kind, text in (("articles", ARTICLES), ("customers", CUSTOMERS)):
        source = tmp_path / f"{kind}.csv"
        source.write_text(text, encoding="utf-8")
        assert import_csv(services.store, kind, source).committed
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    connector = connectors.save(
        services.store,
        connectors.Connector(
            code="WEB", partner="Prestashop", import_dir=str(inbox), export_dir=str(outbox)
        ),
    )
    return services, connector


def write(tmp_path: Path, text: str, name: str = "map.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def current(services: Services, connector: connectors.Connector) -> list[tuple[str, ...]]:
    rows = mappings.mappings(services.store, connector)
    return sorted((r["kind"], r["external"], r["variant"], r["internal"]) for r in rows)


def given(services: Services, connector: connectors.Connector) -> None:
    for kind, external, internal, variant in (
        ("article", "P-VR1", "VR1", ""),
        ("article", "P-MI1", "MI1", "500G"),
        ("article", "-10%", "SV1", ""),
        ("customer", "DERYCKE.MICHEL@FR", "ANDPA", ""),
        ("vat", "TVA20", "FR20", ""),
        ("unit", "Bouteille", "BT", ""),
        ("country", "France", "FR", ""),
    ):
        mappings.set_mapping(services.store, connector, kind, external, internal, variant)


def test_round_trip_export_then_import(shop: Any, tmp_path: Path) -> None:
    services, connector = shop
    given(services, connector)
    before = current(services, connector)
    path = tmp_path / "export.csv"
    assert export_mapping_file(services.store, connector, path) == 7
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, `;`, as every export
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "kind;external;variant;internal;label"
    assert "article;P-MI1;500G;MI1;Miel" in text
    assert "article;'-10%;;SV1" in text  # a spreadsheet would read -10% as a number
    assert "customer;DERYCKE.MICHEL@FR;;ANDPA;André Patrick" in text

    other = connectors.save(
        services.store,
        connectors.Connector(
            code="SHOP2",
            partner="Autre",
            import_dir=connector.import_dir,
            export_dir=connector.export_dir,
        ),
    )
    report = import_mapping_file(services.store, other, path)
    assert report.committed and report.errors_total == 0
    assert (report.total("new"), report.total("changed"), report.total("unchanged")) == (7, 0, 0)
    assert current(services, other) == before

    again = import_mapping_file(services.store, connector, path)
    assert again.committed and again.imported == 0 and again.total("unchanged") == 7
    assert current(services, connector) == before


def test_bad_lines_are_refused_with_line_and_column_and_nothing_written(
    shop: Any, tmp_path: Path
) -> None:
    services, connector = shop
    mappings.set_mapping(services.store, connector, "article", "P-VR1", "VR1")
    before = current(services, connector)
    path = write(
        tmp_path,
        "Type;Code externe;Variante;Code Relais\n"
        "article;P-SV1;;SV1\n"  # good
        "article;P-X;;NOPE\n"  # line 3: unknown article
        "article;;;MI1\n"  # line 4: empty outside code
        "article;P-SV1;;MI1\n"  # line 5: same outside code as line 2
        "client;C9;;NOBODY\n"  # line 6: unknown customer
        "tva;T1;X;FR20\n"  # line 7: a variant on a VAT code
        "colour;R;;RED\n"  # line 8: unknown kind
        "unit;u1;;U\n"
        "unit;U1;;BT\n"  # line 10: the same unit code, other case
        "pays;Belgique;;ZZ\n",  # line 11: unknown country
    )
    for dry_run in (True, False):
        report = import_mapping_file(services.store, connector, path, dry_run=dry_run)
        assert not report.committed
        found = [(e.line, e.column) for e in report.errors]
        assert found == [
            (3, "internal"),
            (4, "external"),
            (5, "external"),
            (6, "internal"),
            (7, "variant"),
            (8, "kind"),
            (10, "external"),
            (11, "internal"),
        ]
        assert current(services, connector) == before
    with i18n.language("en"):
        messages = [e.translated() for e in report.errors]
    assert messages[0] == "line 3, column internal: No article has the code NOPE."
    assert messages[2] == "line 5, column external: P-SV1 is already on line 2 of this file"

    partial = import_mapping_file(services.store, connector, path, skip_bad=True)
    assert partial.committed and partial.imported == 2
    assert current(services, connector) == sorted(
        [*before, ("article", "P-SV1", "", "SV1"), ("unit", "u1", "", "U")]
    )


def test_the_file_habits_and_a_page_of_one_kind(shop: Any, tmp_path: Path) -> None:
    services, connector = shop
    cp1252 = write(tmp_path, "external,internal\r\nPÉCHÉ,VR1\r\n'=1+1,MI1\r\n", encoding="cp1252")
    with pytest.raises(ImportProblem):  # no kind column and no kind given
        import_mapping_file(services.store, connector, cp1252)
    report = import_mapping_file(services.store, connector, cp1252, default_kind="article")
    assert report.committed and report.read.format["encoding"] == "windows-1252"
    assert report.read.format["delimiter"] == ","
    assert current(services, connector) == [
        ("article", "=1+1", "", "MI1"),
        ("article", "PÉCHÉ", "", "VR1"),
    ]
    with pytest.raises(ImportProblem):  # the required columns
        import_mapping_file(services.store, connector, write(tmp_path, "kind;external\nx;y\n"))
    with pytest.raises(CsvError):
        import_mapping_file(services.store, connector, write(tmp_path, ""))
    changed = import_mapping_file(
        services.store,
        connector,
        write(tmp_path, "code_externe;code_article;libellé\nPÉCHÉ;SV1;ignored\n"),
        default_kind="article",
    )
    assert changed.committed and changed.counts == {
        "article": {"new": 0, "changed": 1, "unchanged": 0}
    }
    assert changed.read.ignored_columns == []


def test_five_thousand_products_in_one_step(shop: Any, tmp_path: Path) -> None:
    services, connector = shop
    with services.store.write() as db:
        db.conn.executemany(
            "INSERT INTO articles (code, label, unit_id, vat_rate_id, created_at, updated_at)"
            " SELECT ?, ?, unit_id, vat_rate_id, created_at, updated_at FROM articles"
            " WHERE code = 'VR1'",
            [(f"A{n:05d}", f"Article {n}") for n in range(5000)],
        )
    lines = "".join(f"SHOP-{n};{'V1' if n % 2 else ''};A{n:05d}\n" for n in range(5000))
    path = write(tmp_path, "external;variant;internal\n" + lines)
    analysis = import_mapping_file(
        services.store, connector, path, default_kind="article", dry_run=True
    )
    assert analysis.counts == {"article": {"new": 5000, "changed": 0, "unchanged": 0}}
    assert mappings.mappings(services.store, connector) == []
    report = import_mapping_file(services.store, connector, path, default_kind="article")
    assert report.committed and report.imported == 5000
    assert len(mappings.mappings(services.store, connector)) == 5000
    exported = tmp_path / "out.csv"
    assert export_mapping_file(services.store, connector, exported, ["article"]) == 5000

    bad = path.read_text().replace("A04999", "NOPE")
    refused = import_mapping_file(
        services.store, connector, write(tmp_path, bad, "bad.csv"), default_kind="article"
    )
    assert refused.errors_total == 1 and refused.errors[0].line == 5001


def run(data: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--data-dir", str(data), "connector", "mappings", *args])


def test_command_line_import_export_and_exit_codes(shop: Any, tmp_path: Path) -> None:
    services, connector = shop
    data = services.data_dir.path
    given(services, connector)
    exported = tmp_path / "all.csv"
    result = run(data, "WEB", "--export", str(exported), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rows"] == 7
    with services.store.write() as db:
        db.execute("DELETE FROM connector_articles")
    analysed = run(data, "WEB", "--import", str(exported), "--dry-run", "--json")
    assert analysed.exit_code == 0, analysed.output
    assert json.loads(analysed.output)["new"] == 3
    assert len(mappings.mappings(services.store, connector)) == 4
    imported = run(data, "WEB", "--import", str(exported))
    assert imported.exit_code == 0, imported.output
    assert len(mappings.mappings(services.store, connector)) == 7

    bad = write(tmp_path, "kind;external;internal\narticle;P-Z;NOPE\n", "bad.csv")
    refused = run(data, "WEB", "--import", str(bad), "--json")
    assert refused.exit_code == 2  # nothing written, as the back-office import
    errors = json.loads(refused.output)["errors"]
    assert [(e["line"], e["column"]) for e in errors] == [(2, "internal")]
    assert run(data, "WEB", "--import", str(tmp_path / "missing.csv")).exit_code == 2
    assert run(data, "WEB", "--import", str(exported), "--export", str(exported)).exit_code == 2
    assert run(data, "NOPE", "--export", str(exported)).exit_code == 2
    listed = run(data, "WEB", "--json")
    assert listed.exit_code == 0 and len(json.loads(listed.output)) == 7

    codes = write(tmp_path, "MI1\nSV1\nP-VR1\nNOPE\n", "codes.txt")
    (Path(connector.import_dir) / "orders.csv").write_text("doc_ref;article_ref\nC1;VR1\n")
    identical = run(data, "WEB", "--identical", "--codes", str(codes), "--json")
    assert identical.exit_code == 0, identical.output
    found = json.loads(identical.output)
    assert (found["mapped"], found["already"], found["unmatched"]) == (3, 1, 1)
    assert found["unmatched_codes"] == ["NOPE"]
    missing = run(data, "WEB", "--identical", "--codes", str(tmp_path / "none.txt"))
    assert missing.exit_code == 2


def test_map_by_identical_code(shop: Any, tmp_path: Path) -> None:
    services, connector = shop
    mappings.set_mapping(services.store, connector, "article", "MI1", "SV1")  # kept as it is
    with services.store.write() as db:  # two articles share a barcode: it names neither
        db.execute("UPDATE articles SET barcode = '4006381333931' WHERE code IN ('MI1', 'SV1')")
    given_codes = parse_code_list("vr1\nMI1\n3017620422003;\nP-X;SV1\n4006381333931\nNOPE\n\n")
    assert given_codes[0] == ("vr1", "")
    report = map_identical(services.store, connector, given_codes, dry_run=True)
    assert (report.mapped, report.already, report.unmatched) == (3, 1, 2)
    assert report.unmatched_codes == ["4006381333931", "NOPE"]
    assert len(mappings.mappings(services.store, connector)) == 1  # the dry run wrote nothing
    map_identical(services.store, connector, given_codes)
    assert current(services, connector) == [
        ("article", "3017620422003", "", "VR1"),
        ("article", "MI1", "", "SV1"),
        ("article", "P-X", "SV1", "SV1"),
        ("article", "vr1", "", "VR1"),
    ]

    orders = Path(connector.import_dir) / "orders.csv"
    orders.write_text(
        "doc_ref;article_ref;variant_ref;quantity\nC1;SV1;;1\nC1;P-Z;MI1;2\nC2;SV1;;1\n",
        encoding="utf-8",
    )
    (Path(connector.import_dir) / "broken.csv").write_bytes(b"")
    assert waiting_codes(connector) == [("SV1", ""), ("P-Z", "MI1")]
    again = map_identical(services.store, connector, waiting_codes(connector))
    assert (again.mapped, again.already, again.unmatched) == (2, 0, 0)


def test_what_changes_between_resolving_and_writing_writes_nothing(
    shop: Any, tmp_path: Path
) -> None:
    """The resolving runs without the write lock: a code deleted meanwhile refuses the file."""
    from webapp.econnector import mapping_import

    services, connector = shop
    path = write(tmp_path, "kind;external;internal\npays;Allemagne;DE\narticle;P-1;VR1\n")
    report = mapping_import.MappingReport("WEB", "map.csv", dry_run=False)
    report.read = read_mapping_file(path)
    with services.store.read() as db:
        resolved = mapping_import._resolve(db, connector, report)
    with services.store.write() as db:
        db.execute("DELETE FROM countries WHERE code = 'DE'")
    with pytest.raises(ImportProblem), services.store.write() as db:
        mapping_import._write(db, connector, resolved)
    assert current(services, connector) == []
