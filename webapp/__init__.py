"""Relais: a local program that moves a small shop's business data where it must go."""

__version__ = "0.1.0"

# Before anything else runs: a windowed build has no stdin/stdout/stderr (webapp/windows.py).
from webapp.windows import give_missing_streams as _give_missing_streams

_give_missing_streams()

# httpx imports its own command-line client with itself (httpx/__init__.py: `from ._main import
# main`), and that client imports rich and pygments whenever they are installed (Litestar brings
# them): about a tenth of a second at every start of Relais, for a client it never runs. Marked
# absent, httpx defines its fallback `main` instead (httpx 0.28, pinned in pyproject.toml).
import sys as _sys  # noqa: E402

_sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
