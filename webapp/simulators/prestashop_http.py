"""The PrestaShop simulator's HTTP side: the simulators' server (http_server.py) with a handler
that reads a capped body, asks the simulator for the answer and records the request; it answers
HEAD and PATCH too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from webapp.simulators import prestashop_format as fmt
from webapp.simulators.http_server import SimulatorServer, TrackedHandler, status_phrase

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
    phrase = status_phrase(status)
    return (
        f"<html><head><title>{status} {phrase}</title></head><body>{phrase}</body></html>".encode()
    )


# --- HTTP ------------------------------------------------------------------------------------


class Shop(Protocol):
    """What the handler asks of the simulator (prestashop.PrestaShopSimulator)."""

    strip_authorization: bool

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> Response: ...

    def log_request(self, request: RecordedRequest) -> None: ...


class Handler(TrackedHandler):
    served_methods = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"})
    server: SimulatorServer[Shop]

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
            f"HTTP/1.1 {response.status} {status_phrase(response.status)}",
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
