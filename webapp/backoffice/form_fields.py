"""Field checks the article and party forms share: the code, and values read by a column parser."""

from __future__ import annotations

import re
from collections.abc import Callable

from webapp.backoffice.listing import Errors
from webapp.csvio import ValueProblem
from webapp.i18n import N_

CODE_MAX = 40
# No characters a CSV line, a URL or a search query would trip on.
_CODE = re.compile(r"[^\s;\"'<>\\]+")


def check_code_format(code: str, errors: Errors) -> bool:
    """True when a typed code is well formed; otherwise its first problem is added to ``errors``."""
    if not code:
        errors.add("code", N_("The code is required."))
    elif len(code) > CODE_MAX:
        errors.add("code", N_("At most {max} characters."), max=CODE_MAX)
    elif not _CODE.fullmatch(code):
        errors.add("code", N_("A code cannot hold spaces, quotes, ; < > or \\."))
    else:
        return True
    return False


def parsed_field(parse: Callable[[str], str], raw: str, name: str, errors: Errors) -> str | None:
    """``raw`` read by a column parser, the import's rule; None (and the problem added to
    ``errors``) when the parser refuses it."""
    try:
        return parse(raw)
    except ValueProblem as problem:
        errors.add(name, problem.message, **problem.params)
        return None
