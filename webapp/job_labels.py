"""Every kind of run in words: one label per `runs.job_name`, scheduled or started by hand.

The history list, its filter, the run page, the dashboard and the progress cards show a process
by this label, never by its code. A name missing here is shown as it is stored (a run recorded by
an older or newer version), and tests/test_history_labels.py checks each one the code records."""

from __future__ import annotations

from webapp.i18n import N_, gettext

JOB_LABELS: dict[str, str] = {
    # Scheduled (webapp/job_list.py JOBS): the same texts as their JobSpec titles.
    "scrada_pull": N_("Scrada pull"),
    "scrada_archive_purge": N_("Scrada archive purge"),
    "export_caisseauto": N_("Cash register packages"),
    "history_purge": N_("History purge"),
    "database_backup": N_("Database backup"),
    "update_check": N_("Update check"),
    # Tasks started from a page (job_list.TASKS): their TaskSpec titles.
    "backoffice_analysis": N_("Analysis of a CSV file"),
    "backoffice_import": N_("Import a CSV file"),
    "connector_analysis": N_("Analysis of a connector's reception"),
    "connector_receive": N_("Connector reception"),
    # Runs recorded by hand, a webhook or the cash register's synchroniser.
    "connector_send": N_("Connector sending"),
    "scrada_webhook": N_("Scrada documents sent by webhook"),
    "scrada_redeliver": N_("Scrada files delivered again"),
    "scrada_move": N_("Moving the Scrada files"),
    "import_caisseauto": N_("Cash register packages received"),
    "import_updatecaisse": N_("Cash register updates"),
}


def job_label(name: str) -> str:
    """The process's name in words, in the current language."""
    label = JOB_LABELS.get(name)
    return gettext(label) if label else name


def has_label(name: str) -> bool:
    return name in JOB_LABELS
