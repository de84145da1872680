"""What the analysed reception's page shows beyond the report: each homonym side by side with the
customers it may be, and the reason "Intégrer" is disabled when it is.

The analysis is rolled back, so the received customer's details are not in the database: they
come from the report when it carries them, else from the analysed CSV file read again (only the
files of the homonyms' documents, up to the last document wanted)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from webapp.csvio import CsvError
from webapp.econnector import connectors as connector_store
from webapp.econnector import reception
from webapp.econnector.connectors import Connector, ConnectorError
from webapp.econnector.inbox import read_documents
from webapp.i18n import UserError, gettext
from webapp.services import Services
from webapp.store import rows

DETAILS = ("email", "postcode", "city")


def person(values: dict[str, Any], code: str = "") -> dict[str, str]:
    """A customer as the comparison shows it: code, name, e-mail, postcode and city."""
    names = [str(values.get("first_name") or ""), str(values.get("last_name") or "")]
    name = " ".join(part for part in names if part) or str(values.get("company") or "")
    return {"code": code, "name": name, **{key: str(values.get(key) or "") for key in DETAILS}}


def homonym_choices(
    services: Services, connector: Connector, step: reception.ReceptionStep
) -> list[dict[str, Any]]:
    """step.homonyms(), each with `received` (the outside customer) and `people` (the
    customers found, in the order the choice offers them)."""
    entries = step.homonyms()
    if not entries:
        return []
    received = _received(connector, step, {entry["documents"][0]: entry for entry in entries})
    codes = sorted({code for entry in entries for code in entry["candidates"]})
    with services.store.read() as db:
        found = rows(
            db,
            "SELECT code, first_name, last_name, company, email, postcode, city FROM parties"
            " WHERE kind = 'customer' AND code IN (SELECT value FROM json_each(?))",
            [json.dumps(codes, ensure_ascii=False)],
        )
    known = {str(row["code"]): person(row, str(row["code"])) for row in found}
    for entry in entries:
        entry["received"] = received.get(entry["ref"]) or {
            **person({}, entry["ref"]),
            "name": entry["customer"],
        }
        entry["people"] = [
            known.get(code) or {**person({}, code), "name": code} for code in entry["candidates"]
        ]
    return entries


def _received(
    connector: Connector, step: reception.ReceptionStep, wanted: dict[str, dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """Outside customer ref → its details, from the first document of each homonym."""
    details: dict[str, dict[str, str]] = {}
    files: set[str] = set()
    for result in step.analysis.documents if step.analysis else []:
        entry = wanted.get(result["doc_ref"])
        if entry is None:
            continue
        if result.get("contact"):
            details[entry["ref"]] = {
                **person(result["contact"], entry["ref"]),
                "name": result["customer"],
            }
        else:
            files.add(str(result["file"]))
    if connector.mode != "csv" or not files:
        return details
    missing = {doc: entry for doc, entry in wanted.items() if entry["ref"] not in details}
    folder = Path(connector.import_dir)
    for name in sorted(files):
        # The file may have gone since the analysis: then the report's name is all there is.
        with contextlib.suppress(CsvError, UserError, OSError):
            for document in read_documents(folder / name, connector):
                entry = missing.pop(document.doc_ref, None)
                if entry is not None:
                    details[entry["ref"]] = person(document.header, entry["ref"])
                if not missing:
                    return details
    return details


def integrate_blocker(
    services: Services, connector: Connector, step: reception.ReceptionStep
) -> tuple[str, str] | None:
    """(reason code, the sentence shown) when "Intégrer" is disabled; None when it is not."""
    analysis = step.analysis
    running = services.tasks.running_run_id(reception.INTEGRATION_TASK, connector.code)
    if running:
        return "busy", gettext(
            "A reception of {code} is already running: wait for its end.", code=connector.code
        )
    if analysis is None or analysis.count("will_integrate"):
        return None
    shop = connector.mode == "webservice"
    if any(entry.get("error") for entry in analysis.files):
        if shop:
            return "source", gettext("The shop could not be read: see the message above.")
        return "source", gettext("A file was refused: correct it, then analyse again.")
    if analysis.correspondences_to_give:
        return "codes", gettext("Give the correspondences asked above first.")
    if analysis.articles_without_correspondence:
        return "articles", gettext(
            "Give the correspondences of the articles listed above, then analyse again."
        )
    if analysis.count("not_integrated"):
        return "errors", gettext(
            "No document can be integrated: correct the reasons listed, then analyse again."
        )
    if analysis.count("already"):
        return "already", gettext("Every document received is already integrated.")
    if shop:
        return "empty", gettext("Nothing to integrate: the shop has no new order.")
    return "empty", gettext("Nothing to integrate: no file waiting in the import folder.")


def analysed_context(services: Services, step: reception.ReceptionStep) -> dict[str, Any]:
    """The analysed page's homonyms and integrate blocker (nothing for the other states)."""
    if step.state != "analysed":
        return {"homonyms": [], "blocker": None}
    try:
        connector = connector_store.get(services.store, step.connector)
    except ConnectorError:  # deleted since the analysis: its page still shows the report
        return {"homonyms": step.homonyms(), "blocker": None}
    return {
        "homonyms": homonym_choices(services, connector, step),
        "blocker": integrate_blocker(services, connector, step),
    }
