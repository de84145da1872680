"""What the PrestaShop simulator writes and reads on the wire: values, XML, JSON, error bodies.

Shapes follow PrestaShop's docs (https://devdocs.prestashop-project.org/8/webservice/): every value in
CDATA, ids that point at another resource carry `xlink:href`, a list without `display` gives ids
only (tutorials/prestashop-webservice-lib/listing-resources), money with 6 decimals as stored in
PrestaShop's DECIMAL(20,6) columns, dates `YYYY-MM-DD HH:MM:SS` and `0000-00-00 00:00:00` for
none. The docs show no JSON example (the cheat sheet only names `output_format=JSON`): the JSON
shapes follow PrestaShop's own WebserviceOutputJSON (classes/webservice/ in PrestaShop's source),
docs/prestashop-simulator.md says so.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from webapp.simulators.prestashop_schema import Field, Resource

NO_DATE = "0000-00-00 00:00:00"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
XML_TYPE = "text/xml;charset=utf-8"
JSON_TYPE = "application/json;charset=utf-8"
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
MAX_BODY = 1_000_000  # bytes: a resource is a few kB; a bigger body answers 413


# A record: field name -> value as PrestaShop prints it, plus "associations" computed on output.
Record = dict[str, str]


class BadValue(ValueError):
    pass


def normalize(field: Field, raw: str | int | Decimal | None) -> str:
    """A value as PrestaShop stores and prints it; BadValue when its format refuses it."""
    text = "" if raw is None else str(raw).strip()
    kind = field.kind
    try:
        if kind in ("id", "int"):
            return str(int(text or "0"))
        if kind == "money":
            return f"{Decimal(text or '0'):.6f}"
        if kind == "float":
            return str(Decimal(text or "0"))
        if kind == "bool":
            if text.lower() in ("1", "true"):
                return "1"
            if text.lower() in ("", "0", "false"):
                return "0"
            raise ValueError(text)
        if kind == "date":
            if text in ("", NO_DATE):
                return NO_DATE
            return datetime.strptime(text, DATE_FORMAT).strftime(DATE_FORMAT)
    except (ValueError, InvalidOperation) as error:
        raise BadValue(f"{field.name} = {text!r}") from error
    return text


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _field_xml(api: str, field: Field, value: str) -> str:
    name = field.name
    if field.kind == "lang":
        link = f"{api}languages/1"
        return f'<{name}><language id="1" xlink:href="{link}">{_cdata(value)}</language></{name}>'
    if field.link and value not in ("", "0"):
        return f'<{name} xlink:href="{api}{field.link}/{value}">{_cdata(value)}</{name}>'
    return f"<{name}>{_cdata(value)}</{name}>"


def _associations_xml(api: str, resource: Resource, record: Mapping[str, Any]) -> str:
    associations: Mapping[str, Sequence[Record]] = record.get("associations") or {}
    parts = ["<associations>"]
    for association in resource.associations:
        items = associations.get(association.name, ())
        if association.api is None:
            parts.append(f'<{association.name} nodeType="{association.node}" virtualEntity="true">')
        else:
            parts.append(
                f'<{association.name} nodeType="{association.node}" api="{association.api}">'
            )
        for item in items:
            if association.api is None:
                parts.append(f"<{association.node}>")
            else:
                href = f"{api}{association.api}/{item['id']}"
                parts.append(f'<{association.node} xlink:href="{href}">')
            parts.append(f"<id>{_cdata(item['id'])}</id>")
            for field in association.fields:
                parts.append(_field_xml(api, field, item.get(field.name, "")))
            parts.append(f"</{association.node}>")
        parts.append(f"</{association.name}>")
    parts.append("</associations>")
    return "".join(parts)


def record_xml(
    api: str, resource: Resource, record: Mapping[str, Any], fields: Sequence[str] | None = None
) -> str:
    """One resource as XML; `fields` None is every field with the associations."""
    parts = [f"<{resource.node}>"]
    for field in resource.fields:
        if fields is None or field.name in fields:
            parts.append(_field_xml(api, field, record.get(field.name, "")))
    if resource.associations and (fields is None or "associations" in fields):
        parts.append(_associations_xml(api, resource, record))
    parts.append(f"</{resource.node}>")
    return "".join(parts)


def document_xml(inner: str) -> bytes:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop {XLINK}>\n'
    return (head + inner + "\n</prestashop>\n").encode()


def list_xml(
    api: str,
    resource: Resource,
    records: Iterable[Mapping[str, Any]],
    fields: Sequence[str] | None,
    ids_only: bool,
) -> bytes:
    parts = [f"<{resource.name}>"]
    for record in records:
        if ids_only:
            href = f"{api}{resource.name}/{record['id']}"
            parts.append(f'<{resource.node} id="{record["id"]}" xlink:href="{href}"/>')
        else:
            parts.append(record_xml(api, resource, record, fields))
    parts.append(f"</{resource.name}>")
    return document_xml("".join(parts))


def record_json(
    resource: Resource, record: Mapping[str, Any], fields: Sequence[str] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in resource.fields:
        if fields is None or field.name in fields:
            value = record.get(field.name, "")
            # A multilingual field of a one-language shop is a plain string in JSON
            # (WebserviceOutputJSON::renderField); the id is the object's integer id.
            out[field.name] = int(value) if field.name == "id" else value
    if resource.associations and (fields is None or "associations" in fields):
        associations: Mapping[str, Sequence[Record]] = record.get("associations") or {}
        out["associations"] = {
            a.name: [dict(item) for item in associations.get(a.name, ())]
            for a in resource.associations
        }
    return out


def list_json(
    resource: Resource,
    records: Sequence[Mapping[str, Any]],
    fields: Sequence[str] | None,
    ids_only: bool,
) -> bytes:
    if not records:
        # WebserviceOutputJSON encodes its empty content: `[]`, not {"orders": []}.
        return b"[]"
    if ids_only:
        items: list[dict[str, Any]] = [{"id": int(r["id"])} for r in records]
    else:
        items = [record_json(resource, r, fields) for r in records]
    return json.dumps({resource.name: items}, ensure_ascii=False).encode()


def single_json(resource: Resource, record: Mapping[str, Any]) -> bytes:
    return json.dumps({resource.node: record_json(resource, record)}, ensure_ascii=False).encode()


def errors_xml(errors: Sequence[tuple[int, str]]) -> bytes:
    """PrestaShop's error body (WebserviceOutputXML::renderErrors)."""
    parts = ["<errors>"]
    for code, message in errors:
        parts.append(f"<error><code>{_cdata(str(code))}</code>")
        parts.append(f"<message>{_cdata(message)}</message></error>")
    parts.append("</errors>")
    return document_xml("".join(parts))


def errors_json(errors: Sequence[tuple[int, str]]) -> bytes:
    items = [{"code": code, "message": message} for code, message in errors]
    return json.dumps({"errors": items}, ensure_ascii=False).encode()


# --- reading a PUT body ------------------------------------------------------------------------


class BadBody(ValueError):
    pass


def parse_entities(body: bytes) -> list[dict[str, str]]:
    """The entities under <prestashop> as {field: text}; a multilingual field's language 1.

    Hardened as the Scrada UBL reader: no entities, no DTD, no network."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, dtd_validation=False, load_dtd=False
    )
    try:
        root = etree.parse(io.BytesIO(body), parser).getroot()
    except etree.XMLSyntaxError as error:
        raise BadBody(str(error)) from error
    if root.getroottree().docinfo.doctype:
        raise BadBody("a DOCTYPE is refused")
    entities = []
    for entity in root:
        if not isinstance(entity.tag, str):
            continue
        values: dict[str, str] = {}
        for child in entity:
            if not isinstance(child.tag, str):
                continue
            language = child.find("language")
            if language is not None:
                values[child.tag] = language.text or ""
            elif child.tag != "associations":
                values[child.tag] = (child.text or "").strip()
        entities.append(values)
    return entities
