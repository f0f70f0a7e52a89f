"""Billing errors with messages that say what is wrong and what to do."""

from __future__ import annotations


class BillingError(ValueError):
    """Bad input or a rule that forbids the operation (HTTP 422/409)."""


class NotFound(LookupError):
    """The plan, subscription or invoice does not exist (or is not visible)."""


class InvoiceStateError(BillingError):
    """The invoice is not in a state that allows the operation (e.g. finalizing twice)."""
