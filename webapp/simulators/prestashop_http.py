"""The PrestaShop simulator's HTTP side: a keep-alive ThreadingHTTPServer on 127.0.0.1 whose
handler reads a capped body, asks the simulator for the answer and records the request (the
Scrada simulator's server, with HEAD and PATCH)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from webapp.simulators import prestashop_format as fmt

if TYPE_CHECKING:
    from webapp.simulators.prestashop import PrestaShopSimulator

# Both headers come from PrestaShop's webservice (dispatcher.php, WebserviceRequest::fetch);
# prestapyt reads PSWS-Version to check the shop's version.
PSWS_VERSION = "8.1.7"


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    auth: str | None  # "basic", "ws_key" or None: how the key came (tests: never in a URL)
    body: bytes
    status: int = 0


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = fmt.XML_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def host_page(status: int) -> bytes:
    phrase = _reason(status)
    return (
        f"<html><head><title>{status} {phrase}</title></head><body>{phrase}</body></html>".encode()
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# --- HTTP ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        simulator = self.server.simulator
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > fmt.MAX_BODY:
            # Not read: the connection closes rather than swallow an oversized body.
            self.close_connection = True
            response = Response(413, host_page(413), "text/html")
            body = b""
        else:
            body = self.rfile.read(length) if length else b""
            response = simulator.answer(method, self.path, self.headers, body)
        path, _, raw_query = self.path.partition("?")
        auth = None
        if self.headers.get("Authorization") and not simulator.strip_authorization:
            auth = "basic"
        elif "ws_key" in dict(parse_qsl(raw_query)):
            auth = "ws_key"
        simulator.log_request(RecordedRequest(method, path, raw_query, auth, body, response.status))
        head = [
            f"HTTP/1.1 {response.status} {_reason(response.status)}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body) if method != 'HEAD' else 0}",
            f"PSWS-Version: {PSWS_VERSION}",
            "X-Powered-By: PrestaShop Webservice",
        ]
        head.extend(f"{name}: {value}" for name, value in response.headers.items())
        if self.close_connection:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if method != "HEAD":
            data += response.body
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: PrestaShopSimulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

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
            return
        super().handle_error(request, client_address)
