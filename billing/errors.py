"""Billing errors with messages that say what is wrong and what to do."""

from __future__ import annotations

from servitize import errors


class BillingError(errors.Invalid):
    """Bad input or a rule that forbids the operation (HTTP 422/409)."""


class NotFound(errors.NotFound):
    """The plan, subscription or invoice does not exist (or is not visible)."""


class InvoiceStateError(BillingError, errors.Conflict):
    """The invoice is not in a state that allows the operation (e.g. finalizing twice)."""
