"""The office's register API while it runs: started, restarted and stopped without a restart.

One listener per data folder, in a uvicorn server of its own (a thread with its own event loop),
so that Paramètres can turn it on, move it to another port or give it a certificate while Relais
runs. `relais serve --pos-listen` pins it: the command line wins over the saved settings. Its URL
goes to ``pos.json`` in the data folder, as before, for the scripts that look for it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from webapp import settings
from webapp.files import atomic_write_text
from webapp.i18n import N_, UserError
from webapp.security import is_loopback
from webapp.services import Services
from webapp.sockets import PortUnavailable, bind_socket, url_for

log = logging.getLogger(__name__)

SETTING_KEYS = ("pos_api_enabled", "pos_api_host", "pos_api_port", "pos_api_cert", "pos_api_key")
STARTED_WAIT = 5.0  # seconds the listener gets to answer before its start is reported
STOP_WAIT = 15.0
EVERY_NETWORK = ("0.0.0.0", "::", "")


class ListenerError(UserError):
    """The listener cannot start as asked (port taken, certificate refused)."""


@dataclass(frozen=True)
class ListenerConfig:
    host: str
    port: int
    cert: str | None = None
    key: str | None = None


def config_from(values: dict[str, Any]) -> ListenerConfig | None:
    """The listener the settings ask for; None when it is off."""
    if not values.get("pos_api_enabled"):
        return None
    return ListenerConfig(
        str(values["pos_api_host"]),
        int(values["pos_api_port"]),
        str(values.get("pos_api_cert") or "") or None,
        str(values.get("pos_api_key") or "") or None,
    )


def check_certificate(config: ListenerConfig) -> None:
    if config.key and not config.cert:
        raise ListenerError(N_("A private key needs its certificate."))
    if not config.cert:
        return
    from webapp.asgi import check_certificate as load

    try:
        load(config.cert, config.key)
    except (OSError, ssl.SSLError) as exc:
        raise ListenerError(
            N_("The certificate cannot be used: {detail}"), detail=str(exc)
        ) from None


class PosListener:
    """The register API served on one bound socket until stop()."""

    def __init__(self, services: Services, config: ListenerConfig, sock: socket.socket) -> None:
        from webapp.pos.api import PosApp

        self.config = config
        self.port = int(sock.getsockname()[1])
        scheme = "https" if config.cert else "http"
        self.url = scheme + "://" + url_for(config.host, self.port).removeprefix("http://")
        self.server = uvicorn.Server(
            uvicorn.Config(
                PosApp(services),
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=10,
                ssl_certfile=config.cert,  # None: plain HTTP
                ssl_keyfile=config.key,
            )
        )
        self.sock = sock
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="pos-listener", daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTED_WAIT
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STOP_WAIT)
        with contextlib.suppress(OSError):
            self.sock.close()

    def public_url(self) -> str:
        """The address the registers must use: this computer's network address when it
        listens on every network (127.0.0.1 would name the register itself)."""
        if self.config.host not in EVERY_NETWORK:
            return self.url
        scheme = "https" if self.config.cert else "http"
        return f"{scheme}://{lan_address() or socket.gethostname()}:{self.port}"


_lock = threading.Lock()
_running: dict[str, PosListener] = {}  # by data folder
_pinned: set[str] = set()  # data folders whose listener the command line set


def _folder(services: Services) -> str:
    return str(services.data_dir.path)


def running(services: Services) -> PosListener | None:
    return _running.get(_folder(services))


def is_pinned(services: Services) -> bool:
    return _folder(services) in _pinned


def _bind(config: ListenerConfig, current: PosListener | None) -> socket.socket:
    """The new socket, bound before the running listener stops, unless it holds that very port."""
    try:
        return bind_socket(config.host, config.port, fallback=False)
    except PortUnavailable:
        if current is None or current.port != config.port:
            raise
    current.stop()
    return bind_socket(config.host, config.port, fallback=False)


def start(services: Services, config: ListenerConfig, *, pinned: bool = False) -> PosListener:
    """Start (or move) the listener; on a refusal the one that ran keeps running."""
    check_certificate(config)
    folder = _folder(services)
    with _lock:
        current = _running.get(folder)
        if current is not None and current.config == config and current.thread.is_alive():
            return current  # saved again as it was: the registers keep their connections
        try:
            sock = _bind(config, current)
        except OSError as exc:
            if current is not None and not current.thread.is_alive():
                _restart(services, current)
            raise ListenerError(
                N_("Port {port} cannot be used ({detail}): choose another one."),
                port=config.port,
                detail=str(exc),
            ) from None
        if current is not None:
            current.stop()
        listener = PosListener(services, config, sock)
        listener.start()
        if folder not in _running and current is None:
            services.stoppers.append(lambda: stop(services))
        _running[folder] = listener
        if pinned:
            _pinned.add(folder)
    atomic_write_text(services.data_dir.path / "pos.json", json.dumps({"url": listener.url}))
    if not is_loopback(config.host):
        log.warning("POS listener on %s: reachable from other machines", config.host)
    return listener


def _restart(services: Services, stopped: PosListener) -> None:
    """The listener stopped to free its port for a start that failed: back as it was."""
    sock = bind_socket(stopped.config.host, stopped.port, fallback=False)
    again = PosListener(services, stopped.config, sock)
    again.start()
    _running[_folder(services)] = again


def stop(services: Services) -> None:
    with _lock:
        listener = _running.pop(_folder(services), None)
        _pinned.discard(_folder(services))
    if listener is not None:
        listener.stop()
        with contextlib.suppress(OSError):
            (services.data_dir.path / "pos.json").unlink()


def apply(services: Services, config: ListenerConfig | None) -> PosListener | None:
    """What Paramètres saved, applied now: started, moved or stopped."""
    if is_pinned(services):
        raise ListenerError(
            N_("Relais was started with --pos-listen: the registers' access is set there.")
        )
    if config is None:
        stop(services)
        return None
    return start(services, config)


def start_from_settings(services: Services) -> PosListener | None:
    """At start: the saved listener, if on. A refusal is logged, never stops the UI from
    starting (Paramètres is where it gets fixed)."""
    from webapp.pos import protocol

    config = config_from(settings.get_all(services.store))
    if config is None or settings.read_value(services.store, protocol.ROLE_SETTING) == "register":
        return None
    try:
        return start(services, config)
    except ListenerError as exc:
        log.error("POS listener not started: %s", exc.translated())
        return None


def enable_for_demo(services: Services) -> None:
    """`--demo`: the register API on, on this computer, unless it was ever set."""
    if settings.read_value(services.store, "pos_api_enabled") is None:
        settings.write_value(services.store, "pos_api_enabled", True)


def lan_address() -> str | None:
    """This computer's address on its local network: the one a packet to the outside would
    leave from (a UDP "connect" sends nothing)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, nothing sent
        address = str(probe.getsockname()[0])
        if not address.startswith("127.") and address != "0.0.0.0":
            return address
    return None
