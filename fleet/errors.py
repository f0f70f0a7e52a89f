"""Fleet service errors as problem documents, shared by the fleet routers."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from api.problems import Problem
from fleet import service
from fleet.twin import VersionConflict

T = TypeVar("T")


async def call(action: Awaitable[T]) -> T:
    """Run a service call, turning its errors into problem documents."""
    try:
        return await action
    except service.NotFound as exc:
        raise Problem(404, "Not Found", str(exc)) from exc
    except VersionConflict as exc:
        raise Problem(412, "Precondition Failed", str(exc)) from exc
    except service.Conflict as exc:
        raise Problem(409, "Conflict", str(exc)) from exc
    except ValueError as exc:
        raise Problem(422, "Unprocessable Content", str(exc)) from exc
