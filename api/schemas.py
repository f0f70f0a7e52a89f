"""Pydantic types shared by every router: bounded text, ids, pages, key views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from api.models import Role

T = TypeVar("T")

# PostgreSQL text cannot hold NUL and control characters make logs lie: refuse them.
_PRINTABLE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
METRIC_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
DeviceId = Annotated[str, StringConstraints(pattern=DEVICE_ID_PATTERN)]
MetricName = Annotated[str, StringConstraints(pattern=METRIC_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_PRINTABLE)]
Text = Annotated[str, StringConstraints(max_length=2000, pattern=_PRINTABLE)]

# Far-off years overflow date arithmetic and mean nothing for device data.
MIN_TIME = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
MAX_TIME = datetime.fromisoformat("2200-01-01T00:00:00+00:00")


def _sane_time(value: datetime) -> datetime:
    if not MIN_TIME <= value <= MAX_TIME:
        raise ValueError("time must lie between 1970 and 2200")
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_sane_time)]

MAX_PAGE = 500


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` as `after` to get the next."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="opaque cursor of the next page; null on the last page"
    )


class KeyIn(BaseModel):
    """A new API key."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"role": "operator", "tenant_id": "acme", "name": "noc"}},
    )
    role: Role
    tenant_id: Slug | None = Field(default=None, description="null = provider-wide")
    name: Text = ""


class KeyOut(BaseModel):
    """A stored API key (never its secret)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": "3f9a1c07b2de",
                "role": "operator",
                "tenant_id": "acme",
                "name": "noc",
                "created_at": "2026-03-01T08:00:00Z",
                "revoked_at": None,
                "last_used_at": "2026-03-01T09:12:00Z",
            }
        }
    )

    id: str
    role: Role
    tenant_id: str | None
    name: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    """A new key with its bearer token, shown this one time only."""

    token: str = Field(description="send as `Authorization: Bearer <token>`; not shown again")
