"""Scrada pull against the simulator: 200 companies × (1 journal + 1 cash book) × 30 documents.

    .venv/bin/python benchmarks/scrada.py [--companies N] [--documents N]

The simulator runs as its own process (`python -m webapp.simulators.scrada`) with the rate limit
lifted, so the client is the bottleneck. Measured, each pull in a fresh child process:
- bound: a bare httpx loop downloading the same documents from the same simulator, sequentially;
- first pull: documents/s (validate, write atomically with fsync, record) and peak memory;
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
    command = [sys.executable, "-m", "webapp.simulators.scrada", "--port", "0"]
    command += ["--companies", str(companies), "--documents", str(documents), "--rate-limit", "0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        process.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return process, match.group(0)


def bound(url: str) -> dict[str, Any]:
    """The simulator's own serving rate: list and download every document, nothing else."""
    headers = {"X-API-KEY": "demo-key", "X-PASSWORD": "demo-password"}
    with httpx.Client(base_url=f"{url}/v1/", headers=headers, timeout=30) as client:
        companies = client.get("partner/company").json()["results"]
        started = time.perf_counter()
        documents = 0
        for company in companies:
            for journal in client.get(f"company/{company['id']}/journal").json():
                base = f"company/{company['id']}/journal/{journal['id']}/document"
                for entry in client.get(base, params={"after": "0"}).json()["results"]:
                    client.get(f"{base}/{entry['id']}").raise_for_status()
                    documents += 1
            for book in client.get(f"company/{company['id']}/cashBook").json():
                base = f"company/{company['id']}/cashBook/{book['id']}/statement"
                for entry in client.get(base, params={"after": "0"}).json()["results"]:
                    client.get(f"{base}/{entry['id']}").raise_for_status()
                    documents += 1
        seconds = time.perf_counter() - started
    return {"documents": documents, "seconds": seconds, "companies": len(companies)}


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
    from webapp import history
    from webapp.config import resolve_data_dir
    from webapp.scrada import pull
    from webapp.services import open_services

    clients: list[Any] = []
    original = pull.make_client

    def make_client(context: Any, config: Any) -> Any:
        client = original(context, config)
        clients.append(client)
        return client

    pull.make_client = make_client  # type: ignore[assignment]
    services = open_services(resolve_data_dir(data), vault_backend="file")
    try:
        services.vault.unlock(PASSPHRASE)
        started = time.perf_counter()
        run_id = services.runner.run(pull.JOB_NAME, origin="command")
        seconds = time.perf_counter() - started
        run = history.get_run(services.store, run_id) or {}
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
        limit = bound(url)
        data, root = work / "data", work / "compta"
        prepare(data, url, root)
        first = run_child(data)
        again = run_child(data)
    finally:
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    bound_rate = limit["documents"] / limit["seconds"]
    first_rate = first["delivered"] / first["seconds"]
    per_company = again["requests"] / max(again["companies"], 1)
    print(f"{'measure':<44} {'value':>12} {'bound':>12} {'ratio':>7}")
    print(
        f"{'first pull, documents/s':<44} {first_rate:>12.0f} {bound_rate:>12.0f}"
        f" {bound_rate / first_rate:>6.2f}×"
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
        f"(bound: a bare httpx loop downloaded {limit['documents']} documents in {limit['seconds']:.1f} s)"
    )


if __name__ == "__main__":
    main()
