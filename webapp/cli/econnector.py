"""`relais connector add|list|map|mappings|receive|documents|send|spec`: the e-connecteur from the
command line (ECN-2 to ECN-7)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from webapp.cli.common import (
    EXIT_ITEMS_FAILED,
    CliState,
    connector_named,
    emit,
    fail,
    json_option,
    unlocked_services,
)
from webapp.cli.econnector_shop import read_key, send_to_shop, shop_services, test_command
from webapp.i18n import _, translate_stored


@click.group()
def connector() -> None:
    """E-connecteur: CSV exchange of documents, customers and articles with another program."""


connector.add_command(test_command)


def _reference_id(state: CliState, table: str, code: str | None, label: str) -> int | None:
    if not code:
        return None
    with state.services().store.read() as db:
        row = db.execute(f"SELECT id FROM {table} WHERE code = ?", [code]).fetchone()
    if row is None:
        fail(_("Unknown {what}: {code}", what=label, code=code))
    return int(row[0])


@connector.command("add")
@click.argument("code")
@click.option("--partner", default="Autre", show_default=True, help="The program it talks to.")
@click.option("--mode", type=click.Choice(["csv", "webservice"]), default="csv", show_default=True)
@click.option("--import-dir", default="", help="Folder where the other program puts its files.")
@click.option("--export-dir", default="", help="Folder where Relais writes its files.")
@click.option("--url", "shop_url", default="", help="Webservice mode: the shop's address.")
@click.option("--key", help="Webservice mode: the PrestaShop key ('-' reads standard input).")
@click.option("--order-states", default="", help="Webservice mode: order states taken, e.g. 2,3.")
@click.option(
    "--shipping-ref",
    default="SHIPPING",
    show_default=True,
    help="Webservice mode: the article code of the orders' shipping charges.",
)
@click.option(
    "--discount-ref",
    default="DISCOUNT",
    show_default=True,
    help="Webservice mode: the article code of the orders' discounts.",
)
@click.option(
    "--ws-key", "use_ws_key", is_flag=True, help="Send the key as ws_key= (hosts that strip it)."
)
@click.option(
    "--doc-type", type=click.Choice(["orders", "deliveries"]), default="orders", show_default=True
)
@click.option(
    "--send-articles",
    type=click.Choice(["export", "filter", "none"]),
    default="export",
    show_default=True,
)
@click.option("--article-filter", default="", help="Tags the articles sent must carry.")
@click.option(
    "--send-customers",
    type=click.Choice(["all", "filter", "none"]),
    default="all",
    show_default=True,
)
@click.option("--customer-filter", default="", help="Family code of the customers sent.")
@click.option("--send-contacts", is_flag=True, help="Also send the customers' contacts.")
@click.option("--price-category", help="Price category code of the prices sent.")
@click.option("--warehouse", help="Warehouse code of the stock sent.")
@click.option("--customer-family", help="Family code given to customers created by receptions.")
@click.option("--generate-payment", is_flag=True, help="Create a payment with each document.")
@click.option("--encoding", default="", help="Force the encoding of received files.")
@click.option("--delimiter", default="", help="Force the separator of the files.")
@click.option("--decimal", default="", help="Force the decimal mark of the files.")
@click.option("--date-format", default="", help="Force the date format of received files.")
@json_option
@click.pass_obj
def add(state: CliState, /, code: str, as_json: bool, **options: Any) -> None:
    """Create the connector CODE (CSV folders, or a PrestaShop shop's webservice)."""
    from webapp.econnector.connectors import Connector, ConnectorError, save

    webservice = options["mode"] == "webservice"
    services = unlocked_services(state, as_json) if webservice else state.services()
    key = read_key(options["key"]) if webservice else None
    values = Connector(
        code=code,
        partner=options["partner"],
        mode=options["mode"],
        import_dir=options["import_dir"],
        export_dir=options["export_dir"],
        shop_url=options["shop_url"],
        use_ws_key=options["use_ws_key"],
        order_states=options["order_states"],
        shipping_ref=options["shipping_ref"],
        discount_ref=options["discount_ref"],
        doc_type="order" if options["doc_type"] == "orders" else "delivery",
        send_articles=options["send_articles"],
        article_filter=options["article_filter"],
        send_customers=options["send_customers"],
        customer_filter=options["customer_filter"],
        send_contacts=options["send_contacts"],
        generate_payment=options["generate_payment"],
        price_category_id=_reference_id(
            state, "price_categories", options["price_category"], "price category"
        ),
        warehouse_id=_reference_id(state, "warehouses", options["warehouse"], "warehouse"),
        customer_family_id=_family(state, options["customer_family"]),
        csv_encoding=options["encoding"],
        csv_delimiter=options["delimiter"],
        csv_decimal=options["decimal"],
        csv_date_format=options["date_format"],
    )
    try:
        saved = save(services.store, values, vault=services.vault, key=key)
    except ConnectorError as exc:
        where = f" ({exc.field})" if exc.field else ""
        fail(exc.translated() + where, as_json=as_json)
    emit(as_json, {"ok": True, **saved.as_dict()}, _("Connector {code} created.", code=saved.code))


def _family(state: CliState, code: str | None) -> int | None:
    if not code:
        return None
    with state.services().store.read() as db:
        row = db.execute(
            "SELECT id FROM party_families WHERE kind = 'customer' AND code = ?", [code]
        ).fetchone()
    if row is None:
        fail(_("Unknown {what}: {code}", what="customer family", code=code))
    return int(row[0])


@connector.command("list")
@json_option
@click.pass_obj
def list_command(state: CliState, as_json: bool) -> None:
    """The connectors and what they exchange."""
    from webapp.econnector.connectors import list_all

    rows = [item.as_dict() for item in list_all(state.services().store)]
    lines = [
        f"{row['code']:<12} {row['partner']:<16} {row['mode']:<4} articles={row['send_articles']}"
        f" customers={row['send_customers']} receive={row['doc_type']}s"
        for row in rows
    ]
    emit(as_json, rows, "\n".join(lines) or _("No connector yet."))


@connector.command("map")
@click.argument("code")
@click.argument("kind", type=click.Choice(["article", "customer", "vat", "unit", "country"]))
@click.argument("external")
@click.argument("internal")
@click.option("--variant", default="", help="Variant code of an article in the other program.")
@json_option
@click.pass_obj
def map_command(
    state: CliState, code: str, kind: str, external: str, internal: str, variant: str, as_json: bool
) -> None:
    """Record that EXTERNAL (the other program's code) stands for INTERNAL here."""
    from webapp.econnector.connectors import ConnectorError
    from webapp.econnector.mappings import set_mapping

    item = connector_named(state, code, as_json)
    try:
        saved = set_mapping(state.services().store, item, kind, external, internal, variant)
    except ConnectorError as exc:
        fail(exc.translated(), as_json=as_json)
    emit(as_json, {"ok": True, **saved}, _("Correspondence saved."))


@connector.command("mappings")
@click.argument("code")
@click.option(
    "--import",
    "import_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Import the correspondences of this CSV file (all or nothing).",
)
@click.option(
    "--export",
    "export_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the correspondences to this CSV file.",
)
@click.option(
    "--identical",
    is_flag=True,
    help="Map the outside article codes equal to an article's code or barcode: those of the"
    " files waiting in the import folder, and those of --codes.",
)
@click.option(
    "--codes",
    "codes_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --identical: a text file of outside codes, one per line (code;variant).",
)
@click.option("--dry-run", is_flag=True, help="With --import: check everything, write nothing.")
@click.option("--skip-bad", is_flag=True, help="With --import: import the good lines anyway.")
@click.option(
    "--kind",
    type=click.Choice(["article", "customer", "vat", "unit", "country"]),
    help="The kind of the lines when the file has no kind column; with --export: only this kind.",
)
@click.option("--encoding", help="utf-8, windows-1252 or latin-1 (default: detected).")
@click.option("--delimiter", help="; , tab or | (default: detected; ; on export).")
@json_option
@click.pass_obj
def mappings_command(
    state: CliState,
    /,
    code: str,
    import_file: Path | None,
    export_file: Path | None,
    as_json: bool,
    **options: Any,
) -> None:
    """The connector's correspondences; with --import or --export, as a CSV file
    (columns kind;external;variant;internal;label). A bad line: nothing is written (exit 2),
    unless --skip-bad (exit 1). With --identical, map by identical code."""
    from webapp.cli import econnector_mappings as files
    from webapp.econnector.mappings import mappings

    if import_file and export_file:
        fail(_("Give --import or --export, not both."), as_json=as_json)
    item = connector_named(state, code, as_json)
    if options.pop("identical"):
        files.map_identical(state, item, options["codes_file"], as_json)
        return
    options.pop("codes_file")
    if import_file:
        files.import_mappings(state, item, import_file, as_json, **options)
        return
    if export_file:
        files.export_mappings(state, item, export_file, as_json, options)
        return
    rows = mappings(state.services().store, item)
    lines = [
        f"{r['kind']:<8} {r['external']:<20} {r['variant']:<10} → {r['internal']}" for r in rows
    ]
    emit(as_json, rows, "\n".join(lines) or _("No correspondence yet."))


@connector.command("receive")
@click.argument("code")
@click.option("--analyse-only", is_flag=True, help="Say what would be integrated; write nothing.")
@click.option("--link-homonyms", is_flag=True, help="Link a homonym to the existing customer.")
@json_option
@click.pass_obj
def receive_command(
    state: CliState, code: str, analyse_only: bool, link_homonyms: bool, as_json: bool
) -> None:
    """Receive the files waiting in the import folder, or a shop's new orders for a webservice
    connector (exit 1 if a document was not integrated, 3 when the vault is locked or holds no key).

    The same tasks as the browser's: one integration of a connector at a time, in the history.
    """
    from webapp.econnector import reception
    from webapp.tasks import TaskBusy

    services = state.services()
    item = connector_named(state, code, as_json, services)
    if item.mode == "webservice":  # the tasks must be those of the unlocked vault
        services = shop_services(state, item, as_json)
    tasks = services.tasks
    name = reception.ANALYSIS_TASK if analyse_only else reception.INTEGRATION_TASK
    params = {"connector": item.code, "links": {}, "link_homonyms": link_homonyms}
    try:
        run_id = tasks.run(name, params, subject=item.code, origin="command")
    except TaskBusy as busy:
        fail(busy.translated(), as_json=as_json)
    task = tasks.get(run_id)
    if task is None or not task.result:
        run = task.run if task else {}
        fail(translate_stored(run.get("message"), run.get("params")), as_json=as_json)
    data = task.result["report"]
    lines = [
        f"{r['doc_ref']:<20} {r['status']:<15} {r['customer']:<24} {r['total']:>10}"
        f" {'; '.join(r['reasons'])}"
        for r in data["documents"]
    ]
    lines += [
        _("Still being written, left for the next scan: {file}", file=waiting)
        for waiting in data["waiting"]
    ]
    lines += [
        f"{entry['name']}: {entry.get('error')}" for entry in data["files"] if entry.get("error")
    ]
    emit(as_json, data, "\n".join(lines) or _("Nothing to receive."))
    if data["not_integrated"] or any(entry.get("error") for entry in data["files"]):
        sys.exit(EXIT_ITEMS_FAILED)


@connector.command("documents")
@click.argument("code")
@json_option
@click.pass_obj
def documents_command(state: CliState, code: str, as_json: bool) -> None:
    """The documents integrated through the connector."""
    from webapp.econnector.receive import integrated_documents

    rows = integrated_documents(state.services().store, connector_named(state, code, as_json))
    lines = [
        f"{r['doc_ref']:<20} {r['number']:<10} {r['customer'] or '':<12} {r['total_incl_vat']:>10} {r['lines']:>3}"
        for r in rows
    ]
    emit(as_json, rows, "\n".join(lines) or _("No document yet."))


@connector.command("send")
@click.argument("code")
@click.option("--export-dir", help="Write into this folder for this send only.")
@json_option
@click.pass_obj
def send_command(state: CliState, code: str, export_dir: str | None, as_json: bool) -> None:
    """Write the articles, customers (and contacts) files for the other program; for a
    webservice connector, the articles' stock and prices to the shop (exit 1 when some were
    refused or not found, 3 when the shop refuses the key)."""
    from webapp.econnector.connectors import ConnectorError
    from webapp.econnector.send import send

    item = connector_named(state, code, as_json)
    if item.mode == "webservice":
        send_to_shop(state, item, as_json)
        return
    try:
        report = send(state.services().store, item, export_dir=export_dir)
    except ConnectorError as exc:
        fail(exc.translated(), as_json=as_json)
    lines = [f"{entry['file']}: {entry['rows']}" for entry in report.files]
    emit(as_json, report.as_dict(), "\n".join(lines) or _("Nothing to send."))


@connector.command("spec")
@click.option(
    "--format",
    "kind",
    type=click.Choice(["markdown", "html"]),
    default="markdown",
    show_default=True,
)
@click.option(
    "--example",
    type=click.Choice(["documents", "parties", "articles", "customers", "contacts"]),
    help="Write the example file of one kind instead.",
)
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def spec_command(kind: str, example: str | None, file: Path | None) -> None:
    """The file specification (ECN-9), from the same column definitions the reader and writer
    use; to FILE, or to standard output."""
    from webapp.econnector import spec
    from webapp.files import atomic_write_text

    if example:
        text = spec.example_csv(example)
        if text is None:
            fail(_("No example for {kind}.", kind=example))
    else:
        text = spec.markdown() if kind == "markdown" else spec.html()
    if file is None:
        click.echo(text)
        return
    atomic_write_text(file, text, encoding="utf-8-sig" if example else "utf-8")
    click.echo(_("Written: {file}", file=str(file)))
