"""The update_check process: look at the feed, download and stage a newer version."""

from __future__ import annotations

from webapp import buildinfo, settings
from webapp.clock import now_iso
from webapp.config import is_frozen
from webapp.i18n import N_
from webapp.jobs import JobSpec, RunContext, Summary
from webapp.store import Store
from webapp.updates.errors import UpdateRefused
from webapp.updates.feed import Offer, check
from webapp.updates.staging import download, record, require_installable, staged, state

LAST_CHECK_KEY = "update_last_check"


def auto_check(store: Store, *, force: bool = False) -> tuple[str, Offer | None]:
    """What the update_check process does; returns (outcome, offer). Raises UpdateError."""
    if not force and not settings.get(store, "auto_update"):
        return "off", None
    require_installable()
    offer = check(str(settings.get(store, "update_feed_url")))
    settings.write_value(
        store, LAST_CHECK_KEY, {"at": now_iso(), "version": offer and offer.version}
    )
    if offer is None:
        return "up_to_date", None
    if not force and offer.version in state().get("failed_versions", []):
        return "failed_before", offer
    if staged().get("version") == offer.version:
        return "staged", offer
    download(offer)
    return "downloaded", offer


def _update_job(context: RunContext) -> Summary:
    if not settings.get(context.store, "auto_update"):
        return Summary(N_("Automatic updates are off."))
    if not str(settings.get(context.store, "update_feed_url")).strip():
        return Summary(N_("No update feed is configured."))
    if not is_frozen():
        return Summary(
            N_("Updates install into the built program only; this one runs from source.")
        )
    try:
        outcome, offer = auto_check(context.store)
    except UpdateRefused as exc:
        context.item("update", "error", message=exc.message, **exc.params)
        record(None, last_error=exc.message, last_error_params=exc.params)
        raise
    version = offer.version if offer else buildinfo.current().version
    messages = {
        "up_to_date": N_("Relais {version} is up to date."),
        "failed_before": N_("Version {version} did not start here before: not installed again."),
        "staged": N_("Version {version} is ready: it will be installed at the next start."),
        "downloaded": N_("Version {version} is ready: it will be installed at the next start."),
    }
    if outcome == "downloaded":
        context.item(
            "update", "received", reference=version, message=messages[outcome], version=version
        )
    return Summary(messages[outcome], {"version": version})


UPDATE_CHECK = JobSpec(
    name="update_check",
    title=N_("Update check"),
    description=N_(
        "Looks for a new version on the update feed, verifies its signature and downloads it;"
        " it is installed at the next start."
    ),
    func=_update_job,
    default_trigger=("interval", "360"),
)
