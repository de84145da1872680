"""The command line: `relais [--data-dir DIR] COMMAND`. Admins script it, tests drive it.

common.py holds what every command shares; one module per area defines its group; root.py
assembles them into `main`, the console entry point. `main` is loaded on first use so that
importing one area module (or common) does not import every other one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from webapp.cli.root import main

__all__ = ["main"]


def __getattr__(name: str) -> object:
    if name == "main":
        from webapp.cli.root import main

        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
