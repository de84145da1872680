"""Startup time and idle memory of the onefile build, the onedir build and the source run.

    .venv/bin/python benchmarks/startup.py [--runs N] [--no-build] [--drop-caches]

For each kind, the time from launch to the first HTTP 200 on /healthz (polled every 5 ms):
- cold: a fresh data folder each time (database created and migrated, secrets file, first logs); with
  --drop-caches (root only) the page cache is dropped before each cold run, as after a reboot;
- warm: the same data folder again, files in the page cache.
Then the idle memory: resident set size of the whole process tree (the onefile bootloader included)
three seconds after start, and its proportional share (PSS) where the kernel reports it.
Each figure is the median of N runs. Targets: onedir < 1 s, onefile < 2 s, idle memory < 120 MB.
Prints a table; asserts nothing. Builds first (`bundle/build.py`, skipped when up to date).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
EXE = "relais.exe" if os.name == "nt" else "relais"
COMMANDS = {
    "onefile": [str(REPO / "dist" / "onefile" / EXE)],
    "onedir": [str(REPO / "dist" / "onedir" / "relais" / EXE)],
    "source": [sys.executable, "-m", "webapp"],
}
TARGETS = {"onefile": 2.0, "onedir": 1.0, "source": None}
MEMORY_TARGET_MB = 120


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
    env["RELAIS_VAULT_BACKEND"] = "file"
    return env


def drop_caches() -> None:
    subprocess.run(["sync"], check=False)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def start(kind: str, data: Path, output: Path) -> tuple[subprocess.Popen[bytes], float, str]:
    """Launch and wait for the first 200; returns (process, seconds, url)."""
    port_file = output.open("wb")
    began = time.perf_counter()
    process = subprocess.Popen(
        [*COMMANDS[kind], "--data-dir", str(data), "serve", "--no-browser", "--port", "0"],
        stdout=port_file,
        stderr=subprocess.STDOUT,
        env=environment(),
        cwd=REPO,
    )
    url = None
    with httpx.Client(timeout=1) as client:
        while True:
            if url is None:
                match = re.search(rb"http://127\.0\.0\.1:\d+", output.read_bytes())
                url = match.group(0).decode() if match else None
            if url:
                try:
                    if client.get(url + "/healthz").status_code == 200:
                        elapsed = time.perf_counter() - began
                        break
                except httpx.HTTPError:
                    pass
            if process.poll() is not None:
                raise RuntimeError(f"{kind} exited:\n{output.read_text(errors='replace')}")
            if time.perf_counter() - began > 60:
                raise RuntimeError(f"{kind} did not start")
            time.sleep(0.005)
    port_file.close()
    return process, elapsed, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tree(pid: int) -> list[int]:
    pids = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        pids += tree(int(child))
    return pids


def memory_mb(pid: int) -> tuple[float, float | None]:
    """(RSS, PSS) of the process and its children, in MB."""
    rss = pss = 0
    pss_known = True
    for each in tree(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
        rollup = Path(f"/proc/{each}/smaps_rollup")
        try:
            pss += next(
                int(line.split()[1])
                for line in rollup.read_text().splitlines()
                if line.startswith("Pss:")
            )
        except (OSError, StopIteration):
            pss_known = False
    return rss / 1024, (pss / 1024 if pss_known else None)


def measure(kind: str, runs: int, scratch: Path, drop: bool) -> dict[str, float | None]:
    cold, warm, rss, pss = [], [], [], []
    for index in range(runs):
        data = scratch / f"{kind}-cold-{index}"
        if drop:
            drop_caches()
        process, seconds, _url = start(kind, data, scratch / f"{kind}-cold-{index}.out")
        cold.append(seconds)
        stop(process)
    data = scratch / f"{kind}-warm"
    process, _seconds, _url = start(kind, data, scratch / f"{kind}-warm-first.out")
    stop(process)
    for index in range(runs):
        process, seconds, _url = start(kind, data, scratch / f"{kind}-warm-{index}.out")
        warm.append(seconds)
        if index < 3:
            time.sleep(3)
            resident, proportional = memory_mb(process.pid)
            rss.append(resident)
            if proportional is not None:
                pss.append(proportional)
        stop(process)
    return {
        "cold": statistics.median(cold),
        "warm": statistics.median(warm),
        "rss": statistics.median(rss),
        "pss": statistics.median(pss) if pss else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--drop-caches", action="store_true", help="(root) drop the page cache")
    args = parser.parse_args()
    if args.drop_caches and os.geteuid() != 0:
        parser.error("--drop-caches needs root")
    if not args.no_build:
        subprocess.run([sys.executable, str(REPO / "bundle" / "build.py")], check=True, cwd=REPO)
    scratch = Path(tempfile.mkdtemp(prefix="relais-startup-"))
    try:
        results = {kind: measure(kind, args.runs, scratch, args.drop_caches) for kind in COMMANDS}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nstartup to first HTTP 200 (median of {args.runs}), idle memory after 3 s")
    print(f"{'kind':<8} {'cold':>8} {'warm':>8} {'target':>8} {'RSS':>9} {'PSS':>9}")
    for kind, figures in results.items():
        target = TARGETS[kind]
        pss = figures["pss"]
        print(
            f"{kind:<8} {figures['cold']:>7.2f}s {figures['warm']:>7.2f}s "
            f"{(f'<{target:.0f} s' if target else '-'):>8} {figures['rss']:>6.0f} MB "
            f"{(f'{pss:.0f} MB' if pss is not None else '-'):>9}"
        )
    print(f"memory target: < {MEMORY_TARGET_MB} MB")


if __name__ == "__main__":
    main()
