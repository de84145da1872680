"""What the web layer, the command line and the jobs share: one object built once at start."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from webapp import job_list, settings
from webapp.config import DataDir
from webapp.jobs import JobRunner, JobSpec
from webapp.secrets import Vault
from webapp.store import Store
from webapp.tasks import TaskRunner, TaskSpec


@dataclass
class Services:
    data_dir: DataDir
    store: Store
    runner: JobRunner
    vault: Vault
    install_id: str
    tasks: TaskRunner
    default_language: str = "fr"
    # Background workers started beside the server (the register's synchroniser): stopped first.
    stoppers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def cookie_suffix(self) -> str:
        """Cookies on 127.0.0.1 are shared across ports: name ours after this data folder.

        The folder's path is mixed in: two copies of one USB stick on one computer share an
        install id (the database was copied) but not a path.
        """
        seed = f"{self.install_id}:{self.data_dir.path}".encode()
        return hashlib.sha256(seed).hexdigest()[:8]

    @property
    def language_cookie(self) -> str:
        return f"relais_lang_{self.cookie_suffix}"

    def run_kinds(self) -> dict[str, JobSpec | TaskSpec]:
        """Every kind of run this program records, by `runs.job_name`: jobs first, then tasks."""
        return {**self.runner.registry, **self.tasks.specs}

    def close(self) -> None:
        while self.stoppers:
            self.stoppers.pop()()
        self.runner.shutdown()
        self.tasks.shutdown()
        self.store.close()


def open_services(data_dir: DataDir, *, vault_backend: str = "auto") -> Services:
    store = Store(data_dir.database)
    install_id = settings.install_id(store)
    if data_dir.portable and vault_backend == "auto":
        # A USB stick moves between computers: its secrets travel in the encrypted file with it.
        vault_backend = "file"
    vault = Vault(data_dir.path, service=f"relais-{install_id}", backend=vault_backend)
    runner = JobRunner(store, data_dir, job_list.registry(), vault=vault)
    # Any process (a CLI command as well as `serve`) ends what killed processes left "running".
    runner.release_stale_claims()
    return Services(
        data_dir=data_dir,
        store=store,
        runner=runner,
        vault=vault,
        install_id=install_id,
        # Same stop signal as the jobs: closing Relais asks both to end their runs.
        tasks=TaskRunner(
            store, data_dir, job_list.task_registry(), vault=vault, stop_event=runner.stop_event
        ),
        default_language=str(settings.get(store, "language")),
    )
