"""What the web layer, the command line and the jobs share: one object built once at start."""

from __future__ import annotations

from dataclasses import dataclass

from webapp import (
    maintenance,  # noqa: F401  (registers the platform's processes)
    settings,
)
from webapp.backoffice.uploads import ImportTasks
from webapp.config import DataDir
from webapp.jobs import JobRunner
from webapp.scrada import pull  # noqa: F401  (registers the Scrada pull)
from webapp.secrets import Vault
from webapp.store import Store


@dataclass
class Services:
    data_dir: DataDir
    store: Store
    runner: JobRunner
    vault: Vault
    install_id: str
    imports: ImportTasks
    default_language: str = "fr"

    @property
    def cookie_suffix(self) -> str:
        """Cookies on 127.0.0.1 are shared across ports: name ours after this data folder."""
        return self.install_id[:8]

    @property
    def language_cookie(self) -> str:
        return f"relais_lang_{self.cookie_suffix}"

    def close(self) -> None:
        self.runner.shutdown()
        self.store.close()


def open_services(data_dir: DataDir, *, vault_backend: str = "auto") -> Services:
    store = Store(data_dir.database)
    install_id = settings.install_id(store)
    vault = Vault(data_dir.path, service=f"relais-{install_id}", backend=vault_backend)
    runner = JobRunner(store, data_dir, vault=vault)
    return Services(
        data_dir=data_dir,
        store=store,
        runner=runner,
        vault=vault,
        install_id=install_id,
        imports=ImportTasks(store, data_dir.path / "imports"),
        default_language=str(settings.get(store, "language")),
    )
