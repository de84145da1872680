"""The errors of updates, shown to the user as they are (UserError)."""

from __future__ import annotations

from webapp.i18n import UserError


class UpdateError(UserError):
    """An update that cannot be done now (no feed, no network, not a built program)."""


class UpdateRefused(UpdateError):
    """An update refused for safety: unsigned, tampered with, or a downgrade."""


class UpdateNotConfigured(UpdateError):
    """Nothing to do here: no feed configured, or a program run from source."""
