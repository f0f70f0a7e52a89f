"""Domain errors every package raises or subclasses; the API maps them to problem+json once.

Each message says what is wrong in words a caller can act on. `NotFound` is also a
LookupError and `Invalid` a ValueError, so code that catches the built-ins keeps working.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a use case reports to its caller."""


class NotFound(DomainError, LookupError):
    """No such object for this caller (another tenant's object is 'not found' too): 404."""


class Conflict(DomainError):
    """The current state forbids the change (a duplicate id, an object still in use): 409."""


class Invalid(DomainError, ValueError):
    """The input is inconsistent or refers to something missing: 422."""
