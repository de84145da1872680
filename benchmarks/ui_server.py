"""A real `relais serve` for benchmarks/ui.py, on a free port of 127.0.0.1, and a client that
speaks to it as a browser's session does (its CSRF token in the x-csrftoken header)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, data_dir: Path) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RELAIS_")}
        env.update(RELAIS_VAULT_BACKEND="file", PYTHONUNBUFFERED="1")
        self.log_path = data_dir.parent / "serve.out"
        self._log = open(self.log_path, "w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp", "--data-dir", str(data_dir), "serve", "--no-browser",
             "--port", "0"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )  # fmt: skip
        self.url = self._wait(30.0)

    @property
    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _wait(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"http://127\.0\.0\.1:\d+", self.output)
            if match:
                try:
                    response = httpx.get(match.group(0) + "/healthz", timeout=2, trust_env=False)
                    if response.status_code == 200:
                        return match.group(0)
                except httpx.HTTPError:
                    pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.output}")
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start:\n{self.output}")

    def cpu_seconds(self) -> float | None:
        """The server's CPU time so far (Linux's /proc; None elsewhere): divided by the requests
        of a target, the server's own cost of one, whatever the machine's load."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


def session(base: str) -> tuple[httpx.Client, dict[str, str]]:
    """A kept-alive client with the session's CSRF cookie, and the headers an htmx form sends."""
    client = httpx.Client(base_url=base, timeout=300, trust_env=False)
    page = client.get("/settings").text
    match = re.search(r'"x-csrftoken": "([^"]+)"', page)
    if not match:
        raise RuntimeError("the settings page carries no CSRF token")
    return client, {"x-csrftoken": match.group(1), "HX-Request": "true"}
