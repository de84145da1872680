"""After a change of the subfolder template: how many delivered files are not where it puts them
(a confirmation step), and the move itself (webapp/scrada/folder_moves.py), logged in the history."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from litestar import get, post
from litestar.response import Template

from webapp import history_queries
from webapp.scrada import folder_moves
from webapp.scrada.delivery import JOB_NAME as PULL_JOB
from webapp.scrada.folder_moves import MoveRefused
from webapp.services import Services
from webapp.web.common import ServicesDep

EXAMPLES_SHOWN = 10
# One move at a time in this process; the pull is refused meanwhile by the page, not the scheduler.
_moving = threading.Lock()


def moves_context(services: Services) -> dict[str, Any]:
    """What `_moves.html` shows before the move: the count and the first few moves."""
    try:
        root, template = folder_moves.configured(services.store, services.data_dir)
    except MoveRefused as exc:
        return {"moves_error": exc.translated(), "moves": [], "moves_count": 0}
    moves = folder_moves.plan(services.store, root, template)
    return {
        "moves": moves[:EXAMPLES_SHOWN],
        "moves_count": len(moves),
        "moves_root": str(root),
    }


@get("/scrada/moves", name="scrada_moves", sync_to_thread=True)
def moves_preview(services: ServicesDep) -> Template:
    return Template("scrada/_moves.html", context=moves_context(services))


def _refusal(services: Services, error: str) -> Template:
    context = {**moves_context(services), "moves_error": error}
    return Template("scrada/_moves.html", context=context, status_code=409)


@post("/scrada/moves", name="scrada_move_files", sync_to_thread=True)
def move_files(services: ServicesDep) -> Template:
    """Moves every planned file now; refused while a pull writes or another move runs."""
    try:
        root, template = folder_moves.configured(services.store, services.data_dir)
    except MoveRefused as exc:
        return _refusal(services, exc.translated())
    if services.runner.running_run_id(PULL_JOB) is not None or not _moving.acquire(blocking=False):
        refused = MoveRefused(folder_moves.BUSY)
        return _refusal(services, refused.translated())
    try:
        report = folder_moves.move_files(services.store, Path(root), template)
    finally:
        _moving.release()
    context = {
        **moves_context(services),
        "report": report,
        "run": history_queries.get_run(services.store, report.run_id),
    }
    return Template("scrada/_moves.html", context=context)


ROUTES = [moves_preview, move_files]
