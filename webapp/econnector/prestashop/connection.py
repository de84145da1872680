"""The connection test ("Test de connexion", `relais connector test`): `GET /api/` with the key.

PrestaShop answers the resources the key may use, with the methods allowed on each. The result says
whether the key works, which resources it may read and write, and which of those the connector
needs are missing (order rows come inside orders, so they need no permission of their own).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from webapp.econnector.prestashop.client import (
    KeyRejected,
    PrestaShopClient,
    PrestaShopError,
    ShopUnavailable,
)
from webapp.http_retry import RetryPolicy
from webapp.i18n import N_, gettext

# What the connector reads (receptions) and writes (stock and prices sends).
NEEDED_READ = (
    "orders",
    "customers",
    "addresses",
    "countries",
    "products",
    "combinations",
    "stock_availables",
)
NEEDED_WRITE = ("products", "stock_availables")

# Someone waits for the answer: one retry, not the reception's patience.
RETRY = RetryPolicy(attempts=2, base_seconds=0.5, cap_seconds=1.0)

# What `relais connector test` exits with.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_KEY_REFUSED = 3


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    status: int | None  # the HTTP status that decided, None when nothing answered
    message: str  # in the current language
    shop_name: str = ""
    readable: list[str] = field(default_factory=list)
    writable: list[str] = field(default_factory=list)
    missing_read: list[str] = field(default_factory=list)
    missing_write: list[str] = field(default_factory=list)
    key_refused: bool = False

    @property
    def exit_code(self) -> int:
        if self.ok:
            return EXIT_OK
        return EXIT_KEY_REFUSED if self.key_refused else EXIT_FAILED

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exit_code": self.exit_code}


def check_connection(
    shop: str, key: str, *, use_ws_key: bool = False, timeout: float = 10.0
) -> ConnectionResult:
    """One `GET /api/` (tried twice at most); never raises a PrestaShopError."""
    try:
        client = PrestaShopClient(shop, key, use_ws_key=use_ws_key, timeout=timeout, retry=RETRY)
        with client:
            index = client.index()
    except KeyRejected as exc:
        return ConnectionResult(False, exc.status, exc.translated(), key_refused=True)
    except ShopUnavailable as exc:
        return ConnectionResult(False, None, exc.translated())
    except PrestaShopError as exc:
        return ConnectionResult(False, exc.status, exc.translated())
    readable, writable = index.readable(), index.writable()
    missing_read = [name for name in NEEDED_READ if name not in readable]
    missing_write = [name for name in NEEDED_WRITE if name not in writable]
    if missing_read or missing_write:
        message = gettext(
            N_("The key works, but it may not read {read} or write {write}."),
            read=", ".join(missing_read) or "-",
            write=", ".join(missing_write) or "-",
        )
    else:
        message = gettext(N_("The key works: everything the connector needs is allowed."))
    return ConnectionResult(
        ok=True,
        status=200,
        message=message,
        shop_name=index.shop_name,
        readable=readable,
        writable=writable,
        missing_read=missing_read,
        missing_write=missing_write,
    )
