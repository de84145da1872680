"""Fuzzing the Scrada document checks (Hypothesis): any bytes given as a CODA statement or a UBL
invoice end in its facts or in `InvalidDocument`, never in another exception.

Random bytes rarely get past the first check, so most inputs are the corpus's real files with one
edit: a record overwritten, cut, doubled or re-encoded; an element's text replaced; a slice of
the XML swapped for other bytes. `make fuzz` runs each property 100,000 times.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from hypothesis import example, given
from hypothesis import strategies as st

from tests.test_scrada_formats import CORPUS, SCRADA_UBL, SINGLE, corpus
from webapp.scrada.formats import InvalidDocument, check_coda, check_ubl, document_date

_CODA_FILES = sorted(path.name for path in (CORPUS / "coda").glob("*.txt"))
_UBL_FILES = sorted(path.name for path in (CORPUS / "ubl").glob("*.xml"))
_CODA_TEXT = st.text(alphabet="0123456789 +-.ABCZÉ€\x00\x85\r\n", max_size=24)


@st.composite
def coda_files(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(_CODA_FILES))
    lines = corpus(f"coda/{name}").decode("latin-1").replace("\r", "").split("\n")
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        edit = draw(st.sampled_from(["overwrite", "cut", "double", "drop", "swap"]))
        if edit == "overwrite":
            column = draw(st.integers(0, max(len(line) - 1, 0)))
            text = draw(_CODA_TEXT)
            keep = draw(st.booleans())  # keep the record 128 wide, or not
            lines[index] = line[:column] + text + line[column + (len(text) if keep else 0) :]
        elif edit == "cut":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        elif edit == "double":
            lines.insert(index, line)
        elif edit == "drop":
            del lines[index]
        elif lines:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], line
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    return text.encode(draw(st.sampled_from(["latin-1", "utf-8", "cp1252"])), errors="replace")


@given(data=st.one_of(coda_files(), st.binary(max_size=600)))
@example(data=corpus(SINGLE))
@example(data=corpus(SINGLE).replace(b"\r\n", b"\n").decode("latin-1").encode("utf-8"))
def test_the_coda_check_ends_in_facts_or_invalid_document(data: bytes) -> None:
    try:
        info = check_coda(data)
    except InvalidDocument as error:
        error.translated()  # a msgid whose fields fill it
        return
    assert info.statements and document_date("coda", data) == max(
        statement.date for statement in info.statements
    )


_UBL_ELEMENTS = (
    "cbc:ID",
    "cbc:IssueDate",
    "cbc:PayableAmount",
    "cbc:Name",
    "cbc:DocumentCurrencyCode",
)


@st.composite
def ubl_files(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(_UBL_FILES))
    text = corpus(f"ubl/{name}").decode("utf-8")
    edit = draw(st.sampled_from(["element", "slice", "bytes"]))
    if edit == "element":
        element = draw(st.sampled_from(_UBL_ELEMENTS))
        start = text.find(f"<{element}")
        if start >= 0:
            opened = text.index(">", start) + 1
            closed = text.find(f"</{element}>", opened)
            value = draw(st.text(max_size=40))
            value = escape(value) if draw(st.booleans()) else value
            text = text[:opened] + value + text[closed if closed >= 0 else opened :]
        return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")
    data = text.encode("utf-8")
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 64)))
    replacement = draw(st.binary(max_size=32)) if edit == "bytes" else b""
    if edit == "slice":
        replacement = draw(st.text(alphabet="<>/&;!?[]\"'=: abc\x00", max_size=16)).encode()
    return data[:start] + replacement + data[end:]


@given(data=st.one_of(ubl_files(), st.binary(max_size=400)))
@example(data=corpus(SCRADA_UBL))
@example(data=b"<?xml version='1.0'?>")
@example(data=b"\xef\xbb\xbf<a/>")
def test_the_ubl_check_ends_in_facts_or_invalid_document(data: bytes) -> None:
    try:
        info = check_ubl(data)
    except InvalidDocument as error:
        error.translated()
        return
    assert info.document_id and document_date("ubl", data) == info.issue_date
