"""A reception started from the browser (ECN-6): the analysis and the integration are tasks
(webapp/tasks.py), runs about the connector (subject = its code). The analysis leaves its report,
the customer of each document and the links chosen as the run's result, so a reloaded page, another
browser or the command line find it again by run id; one integration per connector runs at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webapp.econnector import receive as receiving
from webapp.econnector.connectors import get
from webapp.econnector.report import Choices, ReceiveReport, summary
from webapp.i18n import N_, translate_stored
from webapp.run_context import RunContext, Summary
from webapp.tasks import TaskBusy, TaskRun, TaskRunner, TaskSpec

ANALYSIS_TASK = "connector_analysis"
INTEGRATION_TASK = receiving.JOB_NAME


def analyse(context: RunContext, params: dict[str, Any]) -> Summary:
    """The dry run (rolled back): what an integration would do, kept for the page."""
    connector = get(context.store, params["connector"])
    label = (
        N_("Analysing the shop's orders…")
        if connector.mode == "webservice"
        else N_("Analysing the files…")
    )
    report = receiving.receive(
        context.store,
        connector,
        analyse_only=True,
        choices=_choices(params),
        progress=lambda done: context.progress(done, None, label),
        vault=context.vault,
    )
    context.save_result({"report": report.as_dict(), "customer_refs": _customer_refs(report)})
    return Summary(
        N_("Analysis of {connector}: documents to integrate: {count}; not integrated: {refused}."),
        {
            "connector": connector.code,
            "count": report.count("will_integrate"),
            "refused": report.count("not_integrated"),
        },
    )


def integrate(context: RunContext, params: dict[str, Any]) -> Summary:
    """The integration, recorded into this run, with the links the user chose."""
    connector = get(context.store, params["connector"])
    total = int(params.get("total") or 0) or None
    report = receiving.receive(
        context.store,
        connector,
        choices=_choices(params),
        progress=lambda done: context.progress(done, total, N_("Integrating the documents…")),
        run_id=context.run_id,
        vault=context.vault,
    )
    context.save_result({"report": report.as_dict()})
    message, summary_params = summary(report)
    return Summary(message, summary_params)


def _choices(params: dict[str, Any]) -> Choices:
    links = dict(params.get("links") or {})
    return Choices(link_homonyms=bool(params.get("link_homonyms")), links=links)


ANALYSIS = TaskSpec(ANALYSIS_TASK, N_("Analysis of a connector's reception"), analyse)
INTEGRATION = TaskSpec(INTEGRATION_TASK, N_("Connector reception"), integrate)


def _customer_refs(report: ReceiveReport) -> dict[str, str]:
    """doc_ref → the outside customer code (a file's customer_ref, a shop's id_customer) of the
    documents the report details, as each result kept it: the page's homonym links."""
    return {
        result.doc_ref: result.customer_ref
        for result in report.documents
        if result.data_kind == "document"
    }


# -- what the page asks ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredReport:
    """A reception report as its run keeps it (ReceiveReport.as_dict)."""

    data: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        # The templates read the report's fields (files, documents, waiting…) as attributes.
        try:
            return self.data[name]
        except KeyError:
            raise AttributeError(name) from None

    def count(self, status: str) -> int:
        return int(self.data.get(status) or 0)


@dataclass(frozen=True)
class ReceptionStep:
    """One step of a browser reception (its analysis or its integration), as its page shows it."""

    task: TaskRun

    @property
    def id(self) -> int:
        return self.task.id

    @property
    def connector(self) -> str:
        return str(self.task.params.get("connector") or self.task.subject or "")

    @property
    def running(self) -> bool:
        return self.task.running

    @property
    def is_analysis(self) -> bool:
        return self.task.name == ANALYSIS_TASK

    @property
    def _report(self) -> StoredReport | None:
        stored = (self.task.result or {}).get("report")
        return StoredReport(stored) if stored else None

    @property
    def analysis(self) -> StoredReport | None:
        return self._report if self.is_analysis else None

    @property
    def report(self) -> StoredReport | None:
        return None if self.is_analysis else self._report

    @property
    def state(self) -> str:
        """analysing, analysed, integrating, integrated or failed."""
        if self.running:
            return "analysing" if self.is_analysis else "integrating"
        if self._report is not None:
            return "analysed" if self.is_analysis else "integrated"
        return "failed"

    @property
    def error(self) -> str:
        run = self.task.run
        return translate_stored(run.get("message"), run.get("params"))

    @property
    def links(self) -> dict[str, str]:
        return dict(self.task.params.get("links") or {})

    def homonyms(self) -> list[dict[str, Any]]:
        """One choice per outside customer whose documents found homonyms."""
        refs = (self.task.result or {}).get("customer_refs") or {}
        choices: dict[str, dict[str, Any]] = {}
        for result in self.analysis.documents if self.analysis else []:
            ref = refs.get(result["doc_ref"], "")
            if not ref or not result["candidates"] or result["status"] == "already":
                continue
            entry = choices.setdefault(
                ref,
                {
                    "ref": ref,
                    "customer": result["customer"],
                    "candidates": result["candidates"],
                    "documents": [],
                    "choice": self.links.get(ref, "new"),
                },
            )
            entry["documents"].append(result["doc_ref"])
        return list(choices.values())

    def new_customers(self) -> list[dict[str, str]]:
        refs = (self.task.result or {}).get("customer_refs") or {}
        seen: dict[str, dict[str, str]] = {}
        for result in self.analysis.documents if self.analysis else []:
            ref = refs.get(result["doc_ref"], "")
            if (
                result["status"] == "will_integrate"
                and result["customer_status"] == "new"
                and not result["candidates"]
                and ref not in seen
            ):
                seen[ref] = {"ref": ref, "customer": result["customer"]}
        return list(seen.values())


def step(tasks: TaskRunner, run_id: int) -> ReceptionStep | None:
    task = tasks.get(run_id)
    if task is None or task.name not in (ANALYSIS_TASK, INTEGRATION_TASK) or not task.params:
        return None  # not a browser reception (a `relais connector receive` has no page)
    return ReceptionStep(task)


def start_analysis(tasks: TaskRunner, code: str, links: dict[str, str] | None = None) -> int:
    """The analysis's run id; the one under way for this connector, if any (a second click)."""
    try:
        return tasks.start(ANALYSIS_TASK, {"connector": code, "links": links or {}}, subject=code)
    except TaskBusy as busy:
        return busy.run_id


def start_integration(tasks: TaskRunner, analysis: ReceptionStep, links: dict[str, str]) -> int:
    """The integration's run id; TaskBusy while another reception of the connector integrates."""
    report = analysis.analysis
    params = {
        "connector": analysis.connector,
        "links": links,
        "analysis": analysis.id,
        "total": len(report.documents) if report else 0,
    }
    return tasks.start(INTEGRATION_TASK, params, subject=analysis.connector)
