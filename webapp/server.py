"""`relais serve`: bind the socket ourselves (no port race), build the app for that port, run."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import IO, Any

import uvicorn

from webapp.app import create_app
from webapp.config import DataDir
from webapp.files import atomic_write_text, lock_file, unlock_file
from webapp.pos import journal
from webapp.security import is_loopback
from webapp.services import Services
from webapp.sockets import bind_socket, url_for

UI_SWITCH_INTERVAL = 0.0005  # seconds a thread runs before handing over (Python's default: 0.005)

log = logging.getLogger(__name__)


class AlreadyRunning(RuntimeError):
    def __init__(self, url: str | None):
        super().__init__(url or "")
        self.url = url


@contextlib.contextmanager
def serve_lock(data_dir: DataDir) -> Iterator[IO[str]]:
    """One server per data folder: a second one would run every process twice."""
    path = data_dir.path / "serve.lock"
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole serve)
    try:
        lock_file(handle.fileno())
    except OSError:
        handle.close()
        raise AlreadyRunning(_running_url(data_dir)) from None
    # Only the holder of the lock may remove serve.json: it tells others where we are.
    try:
        yield handle
    finally:
        unlock_file(handle.fileno())
        handle.close()
        with contextlib.suppress(OSError):
            (data_dir.path / "serve.json").unlink()


def _running_url(data_dir: DataDir) -> str | None:
    try:
        return str(json.loads((data_dir.path / "serve.json").read_text(encoding="utf-8"))["url"])
    except (OSError, ValueError, KeyError):
        return None


@dataclass
class ServeOptions:
    host: str
    port: int
    fallback: bool
    open_browser: bool
    extra_hosts: list[str]
    webhook_listen: tuple[str, int] | None = None
    webhook_cert: str | None = None  # HTTPS on the webhook listener (webapp/scrada/webhook.py)
    webhook_key: str | None = None
    pos_listen: tuple[str, int] | None = None  # the registers' API (webapp/pos/api.py)
    pos_cert: str | None = None
    pos_key: str | None = None


@dataclass
class Prepared:
    """A server bound and built, its processes scheduled, not yet serving: run() serves."""

    server: uvicorn.Server
    sockets: list[socket.socket]
    url: str

    def run(self) -> None:
        self.server.run(sockets=self.sockets)

    def stop(self) -> None:
        self.server.should_exit = True


def prepare(services: Services, options: ServeOptions, announce: Callable[[str], None]) -> Prepared:
    sock = bind_socket(options.host, options.port, fallback=options.fallback)
    port = sock.getsockname()[1]
    url = url_for(options.host, port)
    if not is_loopback(options.host):
        log.warning("listening on %s: reachable from other machines", options.host)
    atomic_write_text(
        services.data_dir.path / "serve.json", json.dumps({"url": url, "pid": os.getpid()})
    )
    app: Any = create_app(services, host=options.host, port=port, extra_hosts=options.extra_hosts)
    sockets = [sock]
    hook_url = None
    if options.webhook_listen:
        from webapp.scrada.webhook import attach as attach_webhooks

        hooks = attach_webhooks(
            services, app, options.webhook_listen, options.webhook_cert, options.webhook_key
        )
        app, hook_url = hooks.app, hooks.url
        sockets.extend(hooks.sockets)
    pos_url = _start_pos_listener(services, options)
    journal.watch_process(services)  # a register's start (and stop) in its JET
    services.runner.release_stale_claims()
    services.runner.start_scheduler()
    # A job's thread would keep the interpreter 5 ms at a time (Python's default) while a page
    # waits for it: handed over every 0.5 ms, the UI answers between a job's steps.
    sys.setswitchinterval(UI_SWITCH_INTERVAL)
    _freeze_startup_objects()
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=10
    )
    server = _Server(config)
    announce(url)
    if hook_url:
        log.info("scrada webhooks on %s", hook_url)
    if pos_url:  # after the announce: the UI's address is the first one printed
        log.info("cash registers' API on %s", pos_url)
    if options.open_browser:
        threading.Thread(target=_open_when_started, args=(server, url), daemon=True).start()
    return Prepared(server=server, sockets=sockets, url=url)


def _freeze_startup_objects() -> None:
    """Keep what the start made (modules, classes, the app and its routes: ~100,000 objects that
    live as long as the process) out of the cyclic collector's full passes. Pages make objects
    that outlive young collections while other requests are in flight, so a full pass comes every
    second or so under load; over every object it took 60–90 ms, a pause every page in flight
    waited for (benchmarks/ui.py: the tail of its p95). What is freed later is still freed by its
    reference count; only cycles among these objects would stay, and they are not garbage."""
    gc.collect()
    gc.freeze()


def _start_pos_listener(services: Services, options: ServeOptions) -> str | None:
    """The registers' API: `--pos-listen` wins over what Paramètres saved."""
    from webapp.pos import listener

    if not options.pos_listen:
        started = listener.start_from_settings(services)
        return started.url if started else None
    host, port = options.pos_listen
    config = listener.ListenerConfig(host, port, options.pos_cert, options.pos_key)
    return listener.start(services, config, pinned=True).url


def serve(services: Services, options: ServeOptions, announce: Callable[[str], None]) -> None:
    prepare(services, options, announce).run()


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A requested stop is a clean stop: exit 0 instead of uvicorn re-raising the signal.
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def _open_when_started(server: uvicorn.Server, url: str) -> None:
    for _ in range(100):
        if server.started:
            webbrowser.open(url)
            return
        threading.Event().wait(0.1)
