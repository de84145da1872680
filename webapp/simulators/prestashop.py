"""A PrestaShop webservice simulator: a real HTTP server on 127.0.0.1 answering `SHOP/api/` as
PrestaShop 1.7/8 does, for the tests, `relais serve --demo` and the benchmarks.

Written from PrestaShop's public docs (https://devdocs.prestashop-project.org/8/webservice/, the
PrestaShop/docs repository) and, where they are silent, from what PrestaShop's own
WebserviceRequest and dispatcher answer; docs/prestashop-simulator.md says which is which. The
data and its helpers are in prestashop_shop, the wire formats in prestashop_format, the list
parameters in prestashop_query.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hmac
import json
import string
import sys
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

from webapp.simulators import prestashop_format as fmt
from webapp.simulators import prestashop_query as query
from webapp.simulators.http_server import ServerThread, serve_until, stop_on_signal
from webapp.simulators.prestashop_http import Handler, RecordedRequest, Response, host_page
from webapp.simulators.prestashop_orders import Line, OrderBook
from webapp.simulators.prestashop_schema import RESOURCES, Resource
from webapp.simulators.prestashop_write import WriteError, add_order_history, replace

REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the '
    'login. No password required."'
)
SHOP_NAME = "Domaine du Relais"
READ = frozenset({"GET", "HEAD"})

__all__ = ["Line", "PrestaShopSimulator", "RecordedRequest"]


@dataclass
class _Rule:
    count: int
    value: float
    needle: str
    method: str | None


class _Refused(Exception):
    """An answer decided early (an error): carried up to the handler."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _key(rng_source: Any) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(rng_source.choices(alphabet, k=32))


class PrestaShopSimulator(OrderBook):
    """The shop's data (OrderBook), the webservice's rules and the HTTP server."""

    def __init__(
        self,
        *,
        base_path: str = "/boutique",
        seed: int = 7,
        strip_authorization: bool = False,
        block_put: bool = False,
        clock_offset_seconds: int = 0,
    ) -> None:
        super().__init__(seed=seed, clock_offset_seconds=clock_offset_seconds)
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        # A host (CGI/FastCGI without CGIPassAuth) that drops the Authorization header: only
        # ws_key reaches PrestaShop (tutorials/testing-access, "If you have trouble...").
        self.strip_authorization = strip_authorization
        # Some hosts' firewalls refuse PUT before PrestaShop sees it.
        self.block_put = block_put
        self.api_key = _key(self._rng)
        self._keys: dict[str, dict[str, set[str]]] = {}
        everything = {name: set(READ) for name in RESOURCES}
        everything["products"] |= {"PUT"}
        everything["stock_availables"] |= {"PUT"}
        self.add_key(self.api_key, everything)
        self.requests: list[RecordedRequest] = []
        self.demo_ids: dict[str, int] = {}  # set by populate_demo
        self.record_requests = True
        self.url: str | None = None
        self._failures: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._serving = ServerThread("prestashop-simulator", Handler)

    def add_key(self, key: str, permissions: dict[str, set[str]]) -> None:
        """Another webservice key: resource -> the methods it may use."""
        with self._lock:
            self._keys[key] = {name: set(methods) for name, methods in permissions.items()}

    def populate_demo(self, orders: int = 12) -> dict[str, int]:
        """The seeded demo shop (prestashop_demo); the ids a test may name."""
        from webapp.simulators.prestashop_demo import populate

        self.demo_ids = populate(self, orders=orders)
        return self.demo_ids

    # -- injected trouble --

    def fail_next(
        self, count: int, status: int = 500, path_contains: str = "", method: str | None = None
    ) -> None:
        """The next `count` matching requests answer `status` from the host (no PrestaShop body):
        a 5xx of an overloaded host, a 403 of a firewall refusing PUT."""
        with self._lock:
            self._failures.append(_Rule(count, status, path_contains, method))

    def delay_next(
        self, count: int, seconds: float, path_contains: str = "", method: str | None = None
    ) -> None:
        """The next `count` matching requests wait `seconds` first (a client's timeout)."""
        with self._lock:
            self._delays.append(_Rule(count, seconds, path_contains, method))

    def _take(self, rules: list[_Rule], method: str, target: str) -> float | None:
        with self._lock:
            for rule in rules:
                if rule.needle in target and rule.method in (None, method):
                    rule.count -= 1
                    if rule.count <= 0:
                        rules.remove(rule)
                    return rule.value
        return None

    # -- answering --

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> Response:
        path, _, raw_query = target.partition("?")
        api_root = f"{self.base_path}/api"
        if path != api_root and not path.startswith(api_root + "/"):
            return Response(404, b"Not Found", "text/plain")
        delay = self._take(self._delays, method, target)
        if delay:
            self._serving.stopping.wait(delay)
        failure = self._take(self._failures, method, target)
        if failure is not None:
            status = int(failure)
            return Response(status, host_page(status), "text/html")
        if method == "PUT" and self.block_put:
            return Response(405, host_page(405), "text/html")
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        as_json = (params.get("output_format") or headers.get("Output-Format") or "").upper()
        try:
            permissions = self._authenticate(headers, params)
            segments = [unquote(s) for s in path[len(api_root) :].strip("/").split("/") if s]
            return self._route(method, segments, params, permissions, body, as_json == "JSON")
        except _Refused as refused:
            return refused.response
        except query.QueryError as error:
            return _errors(error.status, [(error.code, error.message)], as_json == "JSON")

    def _authenticate(self, headers: Any, params: dict[str, str]) -> dict[str, set[str]]:
        """WebserviceRequest::authenticate (errors 16-21), key from Basic then ws_key."""
        key = None
        authorization = "" if self.strip_authorization else headers.get("Authorization") or ""
        if authorization[:6].lower() == "basic ":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                key = base64.b64decode(authorization[6:]).decode().partition(":")[0].strip()
        if key is None:
            key = params.get("ws_key")
        if key is None:
            # dispatcher.php dies with this text when neither carries a key.
            raise _Refused(
                Response(401, b"401 Unauthorized", "text/html", {"WWW-Authenticate": REALM})
            )
        if not key:
            errors = [(17, "Authentication key is empty")]
        elif len(key) != 32:
            errors = [(18, "Invalid authentication key format")]
        else:
            with self._lock:
                for known, permissions in self._keys.items():
                    if hmac.compare_digest(known.encode(), key.encode()):
                        return permissions
            errors = [
                (20, "Authentification key is not active"),
                (21, "No permission for this authentication key"),
            ]
        response = _errors(401, errors, params.get("output_format", "").upper() == "JSON")
        response.headers["WWW-Authenticate"] = REALM
        raise _Refused(response)

    def _route(
        self,
        method: str,
        segments: list[str],
        params: dict[str, str],
        permissions: dict[str, set[str]],
        body: bytes,
        as_json: bool,
    ) -> Response:
        if method not in ("GET", "POST", "PUT", "DELETE", "HEAD"):
            return _errors(405, [(23, f"Method {method} is not valid")], as_json)
        if not segments:
            if method not in READ:
                return _errors(405, [(23, f"Method {method} is not valid")], as_json)
            if as_json:  # WebserviceOutputJSON lists the resource names only
                names = json.dumps(sorted(permissions)).encode()
                return Response(200, b"" if method == "HEAD" else names, fmt.JSON_TYPE)
            return Response(200, b"" if method == "HEAD" else self._index(permissions))
        name = segments[0]
        resource = RESOURCES.get(name)
        if resource is None:
            message = query.did_you_mean(
                f'Resource of type "{name}" does not exists', name, sorted(RESOURCES)
            )
            return _errors(400, [(27, message)], as_json)
        if name not in permissions:
            message = f'Resource of type "{name}" is not allowed with this authentication key'
            return _errors(401, [(26, message)], as_json)
        if method not in resource.methods:
            message = f"Method {method} is not allowed for the resource {name}"
            return _errors(405, [(101, message)], as_json)
        if method not in permissions[name]:
            message = (
                f"Method {method} is not allowed for the resource {name} with this "
                "authentication key"
            )
            return _errors(405, [(25, message)], as_json)
        record_id = segments[1] if len(segments) > 1 else ""
        if method in READ:
            response = self._get(resource, record_id, params, as_json)
            if method == "HEAD":
                response.body = b""
            return response
        if method == "PUT":
            return self._put(resource, record_id, body, as_json)
        if method == "POST" and name == "order_histories" and not record_id:
            return self._post_history(body, as_json)
        # Other POSTs and DELETE: no connector needs them; a real shop would create or delete.
        return _errors(501, [(999, f"{method} is not simulated")], as_json)

    def _post_history(self, body: bytes, as_json: bool) -> Response:
        resource = RESOURCES["order_histories"]
        try:
            history_id = add_order_history(self, body)
        except WriteError as error:
            return _errors(error.status, error.errors, as_json)
        shown = self.record("order_histories", history_id)
        if as_json:
            return Response(201, fmt.single_json(resource, shown), fmt.JSON_TYPE)
        return Response(201, fmt.document_xml(fmt.record_xml(self.api_url, resource, shown)))

    def _index(self, permissions: dict[str, set[str]]) -> bytes:
        """GET /api/: the resources this key may use (tutorials/testing-access)."""
        api = self.api_url
        parts = [f'<api shopName="{SHOP_NAME}">']
        for name in sorted(permissions):
            methods = permissions[name]
            flags = " ".join(
                f'{m.lower()}="{"true" if m in methods else "false"}"'
                for m in ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")
            )
            description = RESOURCES[name].description if name in RESOURCES else name
            parts.append(f'<{name} xlink:href="{api}{name}" {flags}>')
            parts.append(f'<description xlink:href="{api}{name}" {flags}>{description}')
            parts.append("</description>")
            for kind in ("blank", "synopsis"):
                parts.append(f'<schema xlink:href="{api}{name}?schema={kind}" type="{kind}"/>')
            parts.append(f"</{name}>")
        parts.append("</api>")
        return fmt.document_xml("".join(parts))

    def _full(self, resource: Resource, record: fmt.Record) -> dict[str, Any]:
        shown: dict[str, Any] = self.computed(resource.name, record)
        shown["associations"] = self.associations(resource.name, record)
        return shown

    def _get(
        self, resource: Resource, record_id: str, params: dict[str, str], as_json: bool
    ) -> Response:
        api = self.api_url
        if "schema" in params:
            if params["schema"] not in ("blank", "synopsis"):
                message = (
                    "Please select a schema of type 'synopsis' to get the whole schema "
                    "informations (which fields are required, which kind of content...) or "
                    "'blank' to get an empty schema to fill before using POST request"
                )
                return _errors(400, [(28, message)], as_json)
            return Response(200, fmt.document_xml(fmt.record_xml(api, resource, {})))
        if record_id:
            try:
                record = self.record(resource.name, int(record_id))
            except (KeyError, ValueError):
                return Response(404)  # WebserviceRequest: status 404, output disabled
            shown = self._full(resource, record)
            if as_json:
                return Response(200, fmt.single_json(resource, shown), fmt.JSON_TYPE)
            return Response(200, fmt.document_xml(fmt.record_xml(api, resource, shown)))
        wanted = query.parse_list_query(resource, params)
        with self._lock:  # filtered on the live table, only the chosen records copied
            chosen = [dict(r) for r in query.page(wanted, self.selected(resource, wanted))]
        ids_only = wanted.fields is None and not wanted.full
        shown_all = [r if ids_only else self._full(resource, dict(r)) for r in chosen]
        if as_json:
            body = fmt.list_json(resource, shown_all, wanted.fields, ids_only)
            return Response(200, body, fmt.JSON_TYPE)
        return Response(200, fmt.list_xml(api, resource, shown_all, wanted.fields, ids_only))

    def _put(self, resource: Resource, record_id: str, body: bytes, as_json: bool) -> Response:
        try:
            saved = replace(self, resource, record_id, body)
        except WriteError as error:
            return _errors(error.status, error.errors, as_json)
        shown = [self._full(resource, self.record(resource.name, i)) for i in saved]
        if len(shown) > 1:  # several entities: answered as a list (assumed)
            if as_json:
                return Response(200, fmt.list_json(resource, shown, None, False), fmt.JSON_TYPE)
            return Response(200, fmt.list_xml(self.api_url, resource, shown, None, False))
        if as_json:
            return Response(200, fmt.single_json(resource, shown[0]), fmt.JSON_TYPE)
        return Response(200, fmt.document_xml(fmt.record_xml(self.api_url, resource, shown[0])))

    def log_request(self, request: RecordedRequest) -> None:
        if self.record_requests:
            with self._lock:
                self.requests.append(request)

    # -- the server --

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread; returns the shop's URL (the API is under url + "/api/")."""
        port = self._serving.start(self, host, port)
        self.url = f"http://{host}:{port}{self.base_path}"
        return self.url

    def stop(self) -> None:
        self._serving.stop()

    def __enter__(self) -> PrestaShopSimulator:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


def _errors(status: int, errors: list[tuple[int, str]], as_json: bool) -> Response:
    if as_json:
        return Response(status, fmt.errors_json(errors), fmt.JSON_TYPE)
    return Response(status, fmt.errors_xml(errors))


# --- command line ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m webapp.simulators.prestashop",
        description="Serve a simulated PrestaShop webservice with a demo shop.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--base-path", default="/boutique")
    parser.add_argument("--orders", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clock-offset", type=int, default=0, help="the shop's clock, seconds")
    parser.add_argument("--strip-authorization", action="store_true")
    parser.add_argument("--block-put", action="store_true")
    args = parser.parse_args(argv)
    stop = stop_on_signal()
    simulator = PrestaShopSimulator(
        base_path=args.base_path,
        seed=args.seed,
        strip_authorization=args.strip_authorization,
        block_put=args.block_put,
        clock_offset_seconds=args.clock_offset,
    )
    simulator.record_requests = False  # nobody reads it here; a long run would grow it
    simulator.populate_demo(orders=args.orders)
    url = simulator.start(args.host, args.port)
    # A simulator's key, not a secret: a developer needs it to try the shop.
    print(f"PrestaShop simulator on {url} (API {simulator.api_url}, key {simulator.api_key})")
    sys.stdout.flush()
    return serve_until(stop, simulator.stop)


if __name__ == "__main__":
    sys.exit(main())
