"""A document's next line read at once when each of its cells was met, valid, on an earlier line.

A file repeats its line numbers, articles, quantities, prices, units and VAT codes: after its
first few hundred lines, nearly every cell of a line is a text already read and found valid.
`inbox.read_documents` reads a line cell by cell, each through the memo of its field (a refusal
is remembered too, and a line with one is not added). Here each line column keeps instead what
its valid texts become in a `SourceLine` (a number, a Decimal, a trimmed text), so a line whose
cells are all known is made in one step, and any other line takes the cell by cell path, which
then teaches this one. Same texts, same values: the fields parse a text alone (inbox._Memo).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

LIMIT = 8192  # texts kept per column: memory stays flat in the file size


class KnownLines:
    def __init__(self, indexes: list[int], make: Callable[..., Any]) -> None:
        self.indexes = indexes
        self.known: list[dict[str, Any]] = [{} for _ in indexes]
        self.line = _maker(make, self.indexes, self.known)

    @classmethod
    def of(cls, fields: list[Any], make: Any) -> KnownLines | None:
        """For the dataclass `make` (SourceLine: the line's number in the file, then one field
        per column); None unless the line columns are exactly its fields (then the cell by cell
        path reads every line, as before)."""
        names = [item.name for item in dataclasses.fields(make)][1:]
        indexes = {item.name: item.index for item in fields}
        if sorted(indexes) != sorted(names):
            return None
        return cls([indexes[name] for name in names], make)

    def learn(self, cells: list[str], values: dict[str, Any]) -> None:
        """A line the cell by cell path read without a problem: its texts and what they became."""
        made = line_values(values)
        for index, known, value in zip(self.indexes, self.known, made, strict=True):
            if len(known) >= LIMIT:
                known.clear()
            known[cells[index]] = value


def line_values(values: dict[str, Any]) -> tuple[Any, ...]:
    """A line's parsed cells as SourceLine's fields after its number in the file, in order."""
    get = values.get
    return (
        int(values["line_no"]),
        str(values["article_ref"]),
        str(get("variant_ref") or ""),
        str(get("label") or ""),
        values["quantity"],
        str(get("unit") or ""),
        values["unit_price_incl_vat"],
        str(get("vat_code") or ""),
    )


def _maker(
    make: Callable[..., Any], indexes: list[int], known: list[dict[str, Any]]
) -> Callable[[int, list[str]], Any]:
    """line(at, cells): the SourceLine, or KeyError when a cell's text is not known valid.
    Unrolled: a loop over the eight columns cost as much as the path it saves."""
    i0, i1, i2, i3, i4, i5, i6, i7 = indexes
    k0, k1, k2, k3, k4, k5, k6, k7 = known

    def line(at: int, c: list[str]) -> Any:
        return make(
            at,
            k0[c[i0]],
            k1[c[i1]],
            k2[c[i2]],
            k3[c[i3]],
            k4[c[i4]],
            k5[c[i5]],
            k6[c[i6]],
            k7[c[i7]],
        )

    return line
