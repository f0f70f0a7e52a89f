"""How every service process opens the database: migrated schema required, storage path logged."""

from __future__ import annotations

import logging

from servitize import db
from servitize.migrate import require_migrated
from servitize.settings import get_settings
from servitize.storage import active_path

log = logging.getLogger(__name__)


async def service_pool(name: str, *, max_size: int = 4) -> db.Pool:
    """A pool on the configured database; refuses an unmigrated one, says the storage path."""
    pool = await db.create_pool(db.database_url(get_settings()), max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await require_migrated(conn)
            path = await active_path(conn)
    except BaseException:
        await pool.close()
        raise
    log.info("%s: storage path %s", name, path.value)
    return pool
