"""Relais: a local program that moves a small shop's business data where it must go."""

__version__ = "0.1.0"

# Before anything else runs: a windowed build has no stdin/stdout/stderr (webapp/windows.py).
from webapp.windows import give_missing_streams as _give_missing_streams

_give_missing_streams()
