"""The Scrada simulator as its own process: `python -m webapp.simulators.scrada_cli` (a few
companies, their documents, served until SIGTERM)."""

from __future__ import annotations

import argparse
import random
import sys

from webapp.simulators import scrada_docs as docs
from webapp.simulators.http_server import serve_until, stop_on_signal
from webapp.simulators.scrada import ScradaSimulator
from webapp.simulators.scrada_data import Company


def populate(
    simulator: ScradaSimulator, *, companies: int, documents: int, peppol: int = 0
) -> list[Company]:
    """`companies` shops with a journal and a cash book each, `documents` per book."""
    rng = random.Random(f"names:{companies}")
    made: list[Company] = []
    used: set[str] = set()
    for number in range(1, companies + 1):
        name = docs.shop_name(rng)
        if name in used:
            name = f"{name} {number}"
        used.add(name)
        made.append(simulator.add_company(name, documents=documents, peppol=peppol))
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m webapp.simulators.scrada_cli", description="Serve a simulated Scrada API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--companies", type=int, default=3)
    parser.add_argument("--documents", type=int, default=10, help="per journal and cash book")
    parser.add_argument("--peppol", type=int, default=0, help="unconfirmed Peppol documents each")
    parser.add_argument("--rate-limit", type=int, default=60, help="requests a minute; 0: none")
    parser.add_argument("--api-key", default="demo-key")
    parser.add_argument("--password", default="demo-password")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--documented-only",
        action="store_true",
        help="serve only Scrada's documented API (the assumed partner feed answers 404)",
    )
    args = parser.parse_args(argv)
    # First: a SIGTERM that arrives while the companies are being made still exits cleanly.
    stop = stop_on_signal()
    simulator = ScradaSimulator(
        api_key=args.api_key,
        password=args.password,
        rate_limit=args.rate_limit or None,
        seed=args.seed,
        documented_only=args.documented_only,
    )
    simulator.record_requests = False
    populate(simulator, companies=args.companies, documents=args.documents, peppol=args.peppol)
    if stop.is_set():
        return 0
    url = simulator.start(args.host, args.port)
    print(f"Scrada simulator on {url}", flush=True)
    return serve_until(stop, simulator.stop)


if __name__ == "__main__":
    sys.exit(main())
