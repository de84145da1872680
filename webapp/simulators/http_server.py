"""The simulators' HTTP server: a keep-alive ThreadingHTTPServer on 127.0.0.1 that tracks its
connections so that stopping it also cuts the ones a client keeps alive in its pool.

Each simulator subclasses `TrackedHandler` with its own `_serve(method)` and lists the methods it
answers; a `ServerThread` starts and stops it."""

from __future__ import annotations

import contextlib
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, ClassVar, Generic, TypeVar

SimulatorT = TypeVar("SimulatorT")


def status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class TrackedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's pool reuses connections
    # A method not listed answers 501, as BaseHTTPRequestHandler does when do_X is missing.
    served_methods: ClassVar[frozenset[str]] = frozenset({"GET", "PUT", "POST", "DELETE"})
    server: SimulatorServer[Any]

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # a request log line per call would cost more than answering it

    def _dispatch(self, method: str) -> None:
        if method not in self.served_methods:
            # BaseHTTPRequestHandler.handle_one_request's answer to a method it has no do_X for.
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
            return
        self._serve(method)

    def _serve(self, method: str) -> None:
        raise NotImplementedError


class SimulatorServer(ThreadingHTTPServer, Generic[SimulatorT]):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(
        self,
        address: tuple[str, int],
        simulator: SimulatorT,
        handler: type[TrackedHandler],
    ) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can take seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that hung up is normal here
        super().handle_error(request, client_address)


class ServerThread:
    """A simulator's server and the daemon thread serving it, one at a time. `stopping` is set
    while the simulator stops: a simulated delay waits on it, so stop() cuts the wait short."""

    def __init__(self, name: str, handler: type[TrackedHandler]) -> None:
        self.name = name
        self.handler = handler
        self.stopping = threading.Event()
        self._server: SimulatorServer[Any] | None = None
        self._thread: threading.Thread | None = None

    def start(self, simulator: object, host: str, port: int) -> int:
        """Serve in a daemon thread; returns the port bound."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self.stopping.clear()
        server = SimulatorServer((host, port), simulator, self.handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        return int(server.server_address[1])

    def stop(self) -> None:
        """Stop listening and cut kept-alive connections: a client's pooled connection must not
        keep talking to a simulator that a test has stopped."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(5)
        self._server = self._thread = None


def stop_on_signal() -> threading.Event:
    """An event SIGTERM and SIGINT set: a simulator run as its own process stops cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def serve_until(stop: threading.Event, stop_serving: Callable[[], None]) -> int:
    """A simulator's own process, once it serves: wait for `stop` (stop_on_signal), then stop
    serving; the process's exit code."""
    while not stop.wait(0.5):
        pass
    stop_serving()
    return 0
