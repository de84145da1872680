"""Installing and rolling back from the running program: the swap is left to a helper, a copy of
this very version outside the files being swapped (see _run_helper); at start, a staged update is
installed and the program restarts into it."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from webapp import buildinfo
from webapp.config import is_frozen, program_dir
from webapp.i18n import N_
from webapp.updates.errors import UpdateError, UpdateRefused
from webapp.updates.staging import EXE_NAME, INTERNAL, require_installable, update_dir
from webapp.updates.swap import (
    SELFTEST_TIMEOUT_S,
    Installed,
    child_env,
    install_here,
    rollback_here,
)

log = logging.getLogger(__name__)


def install_staged(root: Path | None = None) -> Installed | None:
    """Install the staged update, or roll back; None when nothing is staged.

    Raises UpdateRefused (staged package not trusted: discarded) or UpdateError (it did not start:
    the previous version is back in place). The work is done by a helper (see _run_helper): after a
    successful swap, this process must import nothing more (its files are gone): exec or exit.
    """
    require_installable()
    root = root or program_dir()
    if not (update_dir(root) / "staged" / "staged.json").is_file():
        return None
    answer = _run_helper(root, "install")
    return Installed(version=str(answer["installed"]), previous=str(answer["previous"]))


def rollback(root: Path | None = None) -> str:
    """Put the previous version back (``relais update rollback``); returns its version."""
    require_installable()
    root = root or program_dir()
    if not (update_dir(root) / "previous" / EXE_NAME).is_file():
        raise UpdateError(N_("No previous version is kept here."))
    return str(_run_helper(root, "rollback")["installed"])


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)  # instant, no space; FAT32 sticks have no links: copy
    except OSError:
        shutil.copy2(source, target)


def make_helper(root: Path) -> Path:
    """This version's files, hard-linked (copied on Windows and FAT) into .relais-update/helper/."""
    helper = update_dir(root) / "helper"
    shutil.rmtree(helper, ignore_errors=True)
    helper.mkdir(parents=True)
    # Windows: a link shares the open file with the running program; a copy is independent.
    place = shutil.copy2 if os.name == "nt" else _link_or_copy
    place(str(root / EXE_NAME), str(helper / EXE_NAME))
    if buildinfo.current().kind == "onedir":
        shutil.copytree(root / INTERNAL, helper / INTERNAL, copy_function=place)
    return helper / EXE_NAME


def _run_helper(root: Path, action: str) -> dict[str, Any]:
    """Run ``action`` from a copy of this program outside the files being swapped.

    A PyInstaller program reads its Python modules from its own executable as it imports them, so
    the process that moves that executable away can no longer import anything. The helper is this
    very version, hard-linked (or copied) into .relais-update/helper/; it does the swap, starts the
    new version's selftest, rolls back if needed, and answers in JSON.
    """
    command = [str(make_helper(root)), "update", f"_{action}", "--root", str(root)]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=SELFTEST_TIMEOUT_S + 300,
            env=child_env(),
            check=False,
        )
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        raise UpdateError(
            N_("The update could not be installed: {detail}"), detail=str(exc) or type(exc).__name__
        ) from exc
    if answer.get("ok"):
        return dict(answer)
    error = UpdateRefused if answer.get("refused") else UpdateError
    raise error(str(answer.get("error")), **(answer.get("params") or {}))


def helper_main(
    action: str, root: Path, wait_pid: int | None = None, relaunch: list[str] | None = None
) -> dict[str, Any]:
    """What the helper process does (``relais update _install|_rollback --root``): a JSON answer.

    On Windows the program's files cannot move while it runs: the program starts the helper with
    its pid and arguments and exits; the helper waits for it, installs, and starts the program again
    (the new version, or the previous one put back).
    """
    if wait_pid:
        from webapp.liveness import pid_alive

        for _ in range(600):
            if not pid_alive(wait_pid):
                break
            threading.Event().wait(0.1)
    answer = _helper_action(action, root)
    if relaunch is not None:
        # On its own: not tied to the helper's output nor to its console or session.
        subprocess.Popen(
            [str(root / EXE_NAME), *relaunch],
            env=child_env(),
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=os.name != "nt",
            creationflags=getattr(subprocess, "DETACHED_PROCESS", 0),
        )
    return answer


def _helper_action(action: str, root: Path) -> dict[str, Any]:
    try:
        if action == "install":
            installed = install_here(root)
            if installed is None:
                return {"ok": False, "error": N_("Nothing is staged."), "params": {}}
            return {"ok": True, "installed": installed.version, "previous": installed.previous}
        return {"ok": True, "installed": rollback_here(root)}
    except UpdateError as exc:
        return {
            "ok": False,
            "error": exc.message,
            "params": exc.params,
            "refused": isinstance(exc, UpdateRefused),
        }


def install_staged_at_start() -> None:
    """At the start of `serve`/`tray` in a built program: install, then restart into the new one."""
    if not is_frozen() or not (update_dir() / "staged" / "staged.json").is_file():
        return
    if os.name == "nt":
        root = program_dir()
        log.info("installing the staged update: Relais restarts in a moment")
        logging.shutdown()
        flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
        subprocess.Popen(
            [
                str(make_helper(root)),
                "update",
                "_install",
                "--root",
                str(root),
                "--wait-pid",
                str(os.getpid()),
                "--relaunch",
                json.dumps(sys.argv[1:]),
            ],
            env=child_env(),
            creationflags=flags,
        )
        os._exit(0)
    try:
        installed = install_staged()
    except UpdateError as exc:
        log.error("update not installed: %s", exc.translated())
        return
    if installed is None:
        return
    executable = program_dir() / EXE_NAME
    log.info(
        "update %s installed (%s kept for a rollback): restarting into it",
        installed.version,
        installed.previous,
    )
    logging.shutdown()
    os.execve(executable, [str(executable), *sys.argv[1:]], child_env())
