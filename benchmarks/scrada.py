"""Scrada pull against the simulator: 200 companies × (1 journal + 1 cash book) × 30 documents.

    .venv/bin/python benchmarks/scrada.py [--companies N] [--documents N]

The simulator runs as its own process (`python -m webapp.simulators.scrada_cli`) with the rate limit
lifted, so the client is the bottleneck. Measured, each pull in a fresh child process:
- bound: a bare httpx loop downloading the same documents from the same simulator, sequentially,
  each written atomically as the pull must (temp name, fsync, rename, fsync of the folder), into
  the same kind of folder tree: what a pull that validates, records and archives nothing costs;
- first pull: documents/s (validate, write atomically with fsync, archive, record), its ratio to
  the bound (goal: 80 % or more) and peak memory; the bound is measured before and after the
  pulls and the faster kept (the machine is shared: a slow bound would flatter the pull);
- the archive (archive.keep, one gzip copy per document with its own fsyncs): its own cost on the
  same documents, and the pull's ratio to bound + archive, which is what the pull itself adds;
- re-pull with nothing new: seconds and requests made per company;
- the real 60/minute limit: how many requests a no-change pull of all companies needs, and the
  minutes that takes at 60 a minute (a count, not a wait).
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PASSPHRASE = "benchmark passphrase"


def start_simulator(companies: int, documents: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "webapp.simulators.scrada_cli", "--port", "0"]
    command += ["--companies", str(companies), "--documents", str(documents), "--rate-limit", "0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        process.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return process, match.group(0)


def bound(url: str, folder: Path, kept: list[bytes] | None = None) -> dict[str, Any]:
    """List, download and write atomically every document, nothing else (`kept` gets them)."""
    from webapp.files import atomic_write_bytes

    headers = {"X-API-KEY": "demo-key", "X-PASSWORD": "demo-password"}
    with httpx.Client(base_url=f"{url}/v1/", headers=headers, timeout=30) as client:
        companies = client.get("partner/company").json()["results"]
        started = time.perf_counter()
        documents = 0
        for company in companies:
            for journal in client.get(f"company/{company['id']}/journal").json():
                base = f"company/{company['id']}/journal/{journal['id']}/document"
                for entry in client.get(base, params={"after": "0"}).json()["results"]:
                    data = client.get(f"{base}/{entry['id']}").raise_for_status().content
                    target = folder / company["taxNumber"] / journal["name"] / entry["fileName"]
                    atomic_write_bytes(target, data)
                    documents += 1
                    if kept is not None:
                        kept.append(data)
            for book in client.get(f"company/{company['id']}/cashBook").json():
                base = f"company/{company['id']}/cashBook/{book['id']}/statement"
                for entry in client.get(base, params={"after": "0"}).json()["results"]:
                    data = client.get(f"{base}/{entry['id']}").raise_for_status().content
                    target = folder / company["taxNumber"] / book["name"] / entry["fileName"]
                    atomic_write_bytes(target, data)
                    documents += 1
                    if kept is not None:
                        kept.append(data)
        seconds = time.perf_counter() - started
    return {"documents": documents, "seconds": seconds, "companies": len(companies)}


def archive_cost(documents: list[bytes], folder: Path) -> float:
    """Seconds for archive.keep to keep a copy of each document (what the pull does besides)."""
    from webapp.scrada import archive

    started = time.perf_counter()
    for data in documents:
        archive.keep(folder, data)
    return time.perf_counter() - started


def prepare(data: Path, url: str, root: Path) -> None:
    from webapp.config import resolve_data_dir
    from webapp.scrada import config
    from webapp.services import open_services

    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.create(PASSPHRASE)
        config.apply(
            services.store,
            services.vault,
            config.ConfigChange(
                api_url=f"{url}/v1/", root=str(root), api_key="demo-key", password="demo-password"
            ),
        )
    finally:
        services.close()


def child_pull(data: Path) -> dict[str, Any]:
    """One pull in this process; prints its figures as JSON."""
    from webapp import history_queries
    from webapp.config import resolve_data_dir
    from webapp.scrada import pull
    from webapp.scrada.delivery import JOB_NAME
    from webapp.services import open_services

    clients: list[Any] = []
    original = pull.make_client

    def make_client(context: Any, config: Any) -> Any:
        client = original(context, config)
        clients.append(client)
        return client

    pull.make_client = make_client
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.unlock(PASSPHRASE)
        started = time.perf_counter()
        run_id = services.runner.run(JOB_NAME, origin="command")
        seconds = time.perf_counter() - started
        run = history_queries.get_run(services.store, run_id) or {}
    finally:
        services.close()
    params = run.get("params") or {}
    return {
        "status": run.get("status"),
        "seconds": seconds,
        "delivered": params.get("delivered", 0),
        "companies": params.get("companies", 0),
        "requests": sum(client.requests_made for client in clients),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(data: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(data)]
    output = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if output.returncode != 0:
        raise RuntimeError(f"the pull failed:\n{output.stdout}\n{output.stderr}")
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--documents", type=int, default=30)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_pull(Path(args.child))))
        return
    work = Path(tempfile.mkdtemp(prefix="relais-bench-scrada-"))
    simulator, url = start_simulator(args.companies, args.documents)
    try:
        kept: list[bytes] = []
        before = bound(url, work / "bound", kept)
        data, root = work / "data", work / "compta"
        prepare(data, url, root)
        first = run_child(data)
        again = run_child(data)
        after = bound(url, work / "bound-again")
        archive_seconds = archive_cost(kept, work / "archive")
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    limit = min(before, after, key=lambda figures: float(figures["seconds"]))
    bound_rate = limit["documents"] / limit["seconds"]
    first_rate = first["delivered"] / first["seconds"]
    with_archive = limit["documents"] / (limit["seconds"] + archive_seconds)
    per_company = again["requests"] / max(again["companies"], 1)
    print(f"{'measure':<44} {'value':>12} {'bound':>12} {'ratio':>7}")
    # The goal: the pull at 80 % of the bound or better (validation, records, archive included).
    print(
        f"{'first pull, documents/s':<44} {first_rate:>12.0f} {bound_rate:>12.0f}"
        f" {first_rate / bound_rate:>6.0%}"
    )
    print(
        f"{'first pull vs bound + archive copies':<44} {first_rate:>12.0f} {with_archive:>12.0f}"
        f" {first_rate / with_archive:>6.0%}"
    )
    print(
        f"{'first pull: documents, seconds':<44} {first['delivered']:>6} {first['seconds']:>5.1f}s"
    )
    print(f"{'first pull: requests':<44} {first['requests']:>12}")
    print(f"{'first pull: peak memory (MB)':<44} {first['max_rss_mb']:>12.1f}")
    print(f"{'re-pull, nothing new: seconds':<44} {again['seconds']:>12.2f}")
    print(f"{'re-pull: requests per company':<44} {per_company:>12.2f}")
    print(f"{'re-pull: peak memory (MB)':<44} {again['max_rss_mb']:>12.1f}")
    minutes = again["requests"] / 60
    print(
        f"{'at 60/min: requests for a no-change pull':<44} {again['requests']:>12}"
        f"   ({minutes:.1f} min for {again['companies']} companies)"
    )
    print(
        f"(bound: a bare httpx loop downloaded and wrote atomically {limit['documents']} documents"
        f" in {limit['seconds']:.1f} s (before the pulls: {before['seconds']:.1f} s, after:"
        f" {after['seconds']:.1f} s); archive.keep of the same: {archive_seconds:.1f} s)"
    )


if __name__ == "__main__":
    main()
