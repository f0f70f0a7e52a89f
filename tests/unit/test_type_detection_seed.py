"""Migration 0011 seeds the built-in types' detection data on existing databases: it must be
exactly what registry/catalog.py registers for them."""

from __future__ import annotations

import json
import re
from importlib import resources

from registry.catalog import BUILTIN_TYPES

_UPDATE = re.compile(r"UPDATE device_types SET detection = '(.*?)'::jsonb\s+WHERE id = '([^']+)'")


def test_migration_seed_equals_the_catalog() -> None:
    sql = resources.files("servitize.migrations").joinpath("0011_device_type_policy.sql")
    seeded = {
        type_id: json.loads(data.replace("''", "'"))
        for data, type_id in _UPDATE.findall(sql.read_text(encoding="utf-8"))
    }
    assert seeded == {t.id: t.detection for t in BUILTIN_TYPES}
    assert all(seeded[t.id]["rules"] for t in BUILTIN_TYPES)
