"""E-connecteur: 10,000 PrestaShop orders received through the webservice (issue 15), against the
CSV reception of the same orders in the same run.

The PrestaShop simulator runs in this (parent) process with the orders
(benchmarks/econnector_shop_data.py: 1 to 20 rows, combinations, shipping, discounts, the three
rounding types, homonyms, unmapped products, states not received); the same orders are written as
a CSV orders file for the connector WEB. Each step runs in a fresh child process on its own copy of
the store (its peak memory is its max RSS):
- csv: the analysis (a dry run, rolled back) and the integration of the orders file (WEB);
- webservice: the analysis and the integration of the shop's orders (PRESTA), then a second
  receive with nothing new.
The simulator's CPU (this process, while the step runs) is printed apart, with the HTTP requests
per order by resource from its request log. Prints a table; asserts nothing.

    .venv/bin/python benchmarks/econnector_shop.py [--orders N]
"""

from __future__ import annotations

import argparse
import collections
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from econnector_shop_data import (
    PASSPHRASE,
    REPO,
    fill_simulator,
    setup_store,
    shop_services,
    write_orders_csv,
)

STEPS = ("csv-analyse", "csv-receive", "ws-fetch", "ws-analyse", "ws-receive", "ws-again")


def step_fetch(data: Path) -> dict[str, Any]:
    """Where the webservice's time goes: the orders asked page by page with what they refer to
    (HTTP and XML), and mapped to documents; nothing analysed or written."""
    from webapp.econnector import connectors
    from webapp.econnector.prestashop.client import PrestaShopClient
    from webapp.econnector.prestashop.orders import ShopCache, changed_orders, complete
    from webapp.econnector.prestashop.orders_map import to_document

    services = shop_services(data)
    try:
        services.vault.unlock(PASSPHRASE)
        connector = connectors.get(services.store, "PRESTA")
        key = connectors.shop_key(services.vault, "PRESTA")
    finally:
        services.close()
    states = [int(state) for state in connector.order_states.split(",")]
    fetch = mapping = 0.0
    orders = 0
    with PrestaShopClient(connector.shop_url, key or "") as client:
        cache = ShopCache()
        started = time.perf_counter()
        for page in changed_orders(client, None, states):
            complete(client, cache, page)
            mapped = time.perf_counter()
            fetch += mapped - started
            for order in page:
                to_document(order, cache, connector)
            orders += len(page)
            started = time.perf_counter()
            mapping += started - mapped
    return {"seconds": fetch + mapping, "fetch": fetch, "map": mapping, "documents": orders}


def step_receive(data: Path, step: str) -> dict[str, Any]:
    from webapp.econnector import connectors
    from webapp.econnector.prestashop.receive import receive_orders
    from webapp.econnector.receive import receive

    services = shop_services(data)
    unlocked_mb = 0.0
    try:
        analyse = step.endswith("analyse")
        if step.startswith("csv"):
            connector = connectors.get(services.store, "WEB")
            started = time.perf_counter()
            report = receive(services.store, connector, analyse_only=analyse, settle=0)
        else:
            services.vault.unlock(PASSPHRASE)
            unlocked_mb = _peak_rss_mb()  # the vault's key derivation is memory-hard
            connector = connectors.get(services.store, "PRESTA")
            started = time.perf_counter()
            report = receive_orders(
                services.store, connector, vault=services.vault, analyse_only=analyse
            )
        seconds = time.perf_counter() - started
    finally:
        services.close()
    counts = report.as_dict()
    errors = [entry["error"] for entry in report.files if "error" in entry]
    return {
        "seconds": seconds,
        "documents": report.total,
        "integrated": counts["integrated"] + counts["will_integrate"],
        "held": counts["not_integrated"],
        "already": counts["already"],
        "homonyms": sum(1 for r in report.documents if r.customer_status == "homonym"),
        "errors": errors,
        "unlocked_mb": unlocked_mb,
        "reasons": sorted({r.reasons[0][:60] for r in report.documents if r.reasons})[:5],
    }


def child(data: Path, step: str) -> None:
    result = step_fetch(data) if step == "ws-fetch" else step_receive(data, step)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["max_rss_mb"] = _peak_rss_mb()
    result["cpu"] = usage.ru_utime + usage.ru_stime
    print(json.dumps(result))


def _peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux keeps it across exec, so a child would
    report its parent's (the simulator's) peak when that is higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(step: str, data: Path, sim: Any) -> dict[str, Any]:
    """One step in a child process; the simulator's CPU and requests while it ran."""
    command = [sys.executable, __file__, "--child", step, "--data", str(data)]
    sim.requests.clear()
    cpu = time.process_time()  # this process does nothing else meanwhile: the simulator's
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    sim_cpu = time.process_time() - cpu
    if done.returncode:
        raise RuntimeError(done.stdout + done.stderr)
    result = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    by_resource = collections.Counter(_resource(request.path) for request in sim.requests)
    result.update(sim_cpu=sim_cpu, requests=dict(by_resource))
    return result


def _resource(path: str) -> str:
    return path.split("/api/", 1)[-1].split("/")[0] or "(index)"


def prepare(root: Path, orders: int) -> tuple[Any, Path, Path, dict[str, Any]]:
    """The simulator (started), a store set up for it, and the orders file in WEB's folder."""
    from webapp.simulators.prestashop import PrestaShopSimulator

    sim = PrestaShopSimulator(seed=15)
    started = time.perf_counter()
    catalogue, made = fill_simulator(sim, orders)
    made["fill_seconds"] = time.perf_counter() - started
    url = sim.start()
    data, inbox = root / "data", root / "in"
    inbox.mkdir(parents=True)
    setup_store(data, inbox, url, sim.api_key, catalogue)
    made["csv_documents"] = write_orders_csv(sim, inbox / "orders.csv")
    return sim, data, inbox, made


def copy_store(root: Path, data: Path, inbox: Path, name: str) -> Path:
    """A copy of the store whose WEB reads its own copy of the orders file."""
    import sqlite3

    from webapp.config import resolve_data_dir

    copy = root / name
    shutil.copytree(data, copy / "data")
    shutil.copytree(inbox, copy / "in")
    conn = sqlite3.connect(resolve_data_dir(copy / "data").database)
    conn.execute("UPDATE connectors SET import_dir = ? WHERE code = 'WEB'", [str(copy / "in")])
    conn.commit()
    conn.close()
    return copy / "data"


def report(made: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    orders = made["received_states"]
    csv_pair = results["csv-analyse"]["seconds"] + results["csv-receive"]["seconds"]
    ws_pair = results["ws-analyse"]["seconds"] + results["ws-receive"]["seconds"]
    print(
        f"shop: {orders} orders in the received states, {made['other_states']} in others,"
        f" {made['with_unmapped']} with an unmapped product; CSV file {made['csv_documents']}"
        f" documents; simulator filled in {made['fill_seconds']:.1f} s"
    )
    head = f"{'step':<34} {'s':>7} {'orders/s':>9} {'× csv':>7} {'req/order':>9}"
    print(f"{head} {'CPU s':>6} {'sim %':>8} {'peak MB':>8}  integrated/held/already/homonyms")
    rows = [
        ("csv: analysis", "csv-analyse", results["csv-analyse"]["seconds"]),
        ("csv: integration", "csv-receive", results["csv-receive"]["seconds"]),
        ("csv: analysis + integration", None, csv_pair),
        ("webservice: analysis", "ws-analyse", results["ws-analyse"]["seconds"]),
        ("webservice: integration", "ws-receive", results["ws-receive"]["seconds"]),
        ("webservice: analysis + integration", None, ws_pair),
        ("webservice: again, nothing new", "ws-again", results["ws-again"]["seconds"]),
    ]
    for label, step, seconds in rows:
        twin = label.replace("webservice", "csv").replace("again, nothing new", "integration")
        base_seconds = next((s for lab, _, s in rows if lab == twin), seconds)
        line = (
            f"{label:<34} {seconds:>7.2f} {orders / seconds:>9.0f} {seconds / base_seconds:>6.2f}×"
        )
        if step is None:
            print(line)
            continue
        result = results[step]
        requests = sum(result["requests"].values())
        share = result["sim_cpu"] / max(result["sim_cpu"] + result["cpu"], 1e-9)
        print(
            f"{line} {requests / orders:>9.3f} {result['cpu']:>6.1f} {share:>7.0%}"
            f" {result['max_rss_mb']:>8.1f}"
            f"  {result['integrated']}/{result['held']}/{result['already']}/{result['homonyms']}"
        )
    fetched = results["ws-fetch"]
    print(
        f"   where the webservice's time goes: fetching {fetched['documents']} orders with what they"
        f" refer to (HTTP + XML, both sides) {fetched['fetch']:.2f} s, mapping them to documents"
        f" {fetched['map']:.2f} s, in a child of its own ({fetched['cpu']:.1f} CPU s, simulator"
        f" {fetched['sim_cpu']:.2f} CPU s); the rest of an analysis is the reception loop"
    )
    print(
        f"   peak MB of the webservice steps: {results['ws-analyse']['unlocked_mb']:.0f} MB"
        " reached by the vault's unlock (key derivation) before the receive starts"
    )
    for step in ("ws-fetch", "ws-analyse", "ws-receive", "ws-again"):
        result = results[step]
        detail = ", ".join(f"{name} {count}" for name, count in sorted(result["requests"].items()))
        print(f"   {step}: requests {detail}; simulator CPU {result['sim_cpu']:.2f} s")
    print(f"   held back because: {'; '.join(results['ws-receive']['reasons'])}")
    for step, result in results.items():
        if result.get("errors"):
            print(f"   {step}: stopped on {result['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--child", dest="step", choices=STEPS)
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.step:
        child(Path(args.data), args.step)
        return
    root = Path(tempfile.mkdtemp(prefix="relais-bench-shop-"))
    sim = None
    try:
        sim, data, inbox, made = prepare(root, args.orders)
        csv_data = copy_store(root, data, inbox, "csv")
        ws_data = copy_store(root, data, inbox, "ws")
        results = {}
        for step in STEPS:
            results[step] = run(step, csv_data if step.startswith("csv") else ws_data, sim)
        report(made, results)
    finally:
        if sim is not None:
            sim.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
