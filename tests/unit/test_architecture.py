"""The layout rules, checked over the source: who may import whose repository, whose tables a
package's SQL may name, and that the detection engine stays free of I/O.

Each table has one owning package (docs/storage.md); other packages read it through the owner's
service. The checks walk the AST of every module of the application packages (tests and bench
set up data directly and are not checked).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "servitize",
    "registry",
    "ingest",
    "analytics",
    "billing",
    "api",
    "simulators",
    "fleet",
    "fieldservice",
    "console",
)
# analytics is four rooms; each is a package of its own for these rules
ANALYTICS_ROOMS = ("detectors", "monitor", "alerts", "evaluation")

# The one explicit table -> owner map (docs/storage.md has the same table, with the readers).
OWNERS = {
    "tenants": "registry",
    "sites": "registry",
    "device_types": "registry",
    "device_type_metrics": "registry",
    "devices": "registry",
    "telemetry": "ingest",
    "telemetry_1m": "ingest",
    "telemetry_1h": "ingest",
    "device_events": "ingest",
    "ingest_rejects": "ingest",
    "ingest_batches": "ingest",
    "ingest_counters": "ingest",
    "device_status": "ingest",
    "device_presence": "ingest",
    "alerts": "analytics.alerts",
    "alert_events": "analytics.alerts",
    "alert_comments": "analytics.alerts",
    "maintenance_windows": "analytics.alerts",
    "webhooks": "analytics.alerts",
    "notifications": "analytics.alerts",
    "detector_checkpoints": "analytics.monitor",
    "detector_series_state": "analytics.monitor",
    "analytics_models": "analytics.monitor",
    "billing_plans": "billing",
    "billing_subscriptions": "billing",
    "billing_coverage": "billing",
    "billing_seller": "billing",
    "billing_invoices": "billing",
    "billing_invoice_lines": "billing",
    "billing_credit_notes": "billing",
    "billing_number_counters": "billing",
    "billing_runs": "billing",
    "billing_payments": "billing",
    "billing_events": "billing",
    "billing_usage_records": "billing",
    "billing_coupons": "billing",
    "billing_coupon_redemptions": "billing",
    "billing_wallet_topups": "billing",
    "billing_wallet_uses": "billing",
    "api_keys": "api",
    "fleet_commands": "fleet",
    "fleet_events": "fleet",
    "fleet_twins": "fleet",
    "fleet_blobs": "fleet",
    "fleet_packages": "fleet",
    "fleet_campaigns": "fleet",
    "fleet_updates": "fleet",
    "fs_calendars": "fieldservice",
    "fs_calendar_days": "fieldservice",
    "fs_technicians": "fieldservice",
    "fs_parts": "fieldservice",
    "fs_contracts": "fieldservice",
    "fs_policies": "fieldservice",
    "fs_schedules": "fieldservice",
    "fs_number_counters": "fieldservice",
    "fs_work_orders": "fieldservice",
    "fs_work_order_alerts": "fieldservice",
    "fs_events": "fieldservice",
    "fs_time_entries": "fieldservice",
    "fs_part_uses": "fieldservice",
    "fs_notes": "fieldservice",
    "fs_attachments": "fieldservice",
    "console_users": "console",
    "console_sessions": "console",
}
# Known and named, each with its reason; an entry no longer needed fails the test.
EXCEPTIONS = {
    (
        "registry/objects_repository.py",
        "device_presence",
    ): "the API's device list pages and filters "
    "by connection state in one query, so it joins ingest's presence view (read only)",
}
# Packages the pure engine may not import (I/O, the database, the web).
IO_MODULES = ("asyncpg", "aiomqtt", "paho", "httpx", "fastapi", "sse_starlette", "uvicorn")
LIVE_ROOMS = ("analytics.detectors", "analytics.monitor", "analytics.alerts")

_CREATE = re.compile(
    r"\bCREATE\s+(?:TABLE|(?:MATERIALIZED\s+)?VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.I
)
_SQL_TABLE = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|COPY)\s+(?:ONLY\s+)?(\w+)")


def migration_tables(root: Path) -> set[str]:
    """Table and view names the migrations create."""
    found: set[str] = set()
    for sql in sorted((root / "servitize" / "migrations").glob("*.sql")):
        found |= {name.lower() for name in _CREATE.findall(sql.read_text())}
    return found


def modules(root: Path) -> Iterator[tuple[str, str, ast.Module]]:
    """(path relative to root, owning package, AST) of every application module."""
    for top in PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            yield (
                rel,
                package_of(rel.removesuffix(".py").replace("/", ".")),
                ast.parse(path.read_text(), rel),
            )


def package_of(module: str) -> str:
    """The package a dotted module belongs to (analytics.<room> for the analytics rooms)."""
    parts = module.split(".")
    if parts[0] == "analytics" and len(parts) > 1 and parts[1] in ANALYTICS_ROOMS:
        return f"analytics.{parts[1]}"
    return parts[0]


def imported(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted module) of every import, names of `from x import y` as x.y too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{a.name}") for a in node.names)


def is_repository(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "repository" or last.endswith("_repository")


def repository_violations(root: Path) -> list[str]:
    """Imports of another package's repository module."""
    return [
        f"{rel}:{line} imports {mod}"
        for rel, pkg, tree in modules(root)
        for line, mod in imported(tree)
        if is_repository(mod) and package_of(mod) != pkg
    ]


def _docstrings(tree: ast.Module) -> set[int]:
    scopes = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, scopes)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }


def sql_tables(tree: ast.Module, tables: set[str]) -> Iterator[tuple[int, str]]:
    """(line, table) for each known table a string of the module names after a SQL keyword."""
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for name in _SQL_TABLE.findall(node.value):
                if name.lower() in tables:
                    yield node.lineno, name.lower()


def table_violations(
    root: Path, owners: dict[str, str], exceptions: dict[tuple[str, str], str]
) -> tuple[list[str], set[tuple[str, str]]]:
    """SQL naming a table the module's package does not own; and the exceptions that were used."""
    tables = migration_tables(root)
    bad: list[str] = []
    used: set[tuple[str, str]] = set()
    for rel, pkg, tree in modules(root):
        for line, table in sql_tables(tree, tables):
            if owners.get(table) == pkg:
                continue
            if (rel, table) in exceptions:
                used.add((rel, table))
            else:
                bad.append(f"{rel}:{line} {pkg} names {table} (owner: {owners.get(table)})")
    return bad, used


def purity_violations(root: Path) -> list[str]:
    """I/O, database, repository or non-engine analytics imports in analytics/detectors."""
    bad = []
    for rel, pkg, tree in modules(root):
        if pkg != "analytics.detectors":
            continue
        for line, mod in imported(tree):
            top = mod.split(".")[0]
            if (
                top in IO_MODULES
                or mod.startswith("servitize")
                or is_repository(mod)
                or (top == "analytics" and package_of(mod) != "analytics.detectors")
            ):
                bad.append(f"{rel}:{line} imports {mod}")
    return bad


def live_evaluation_imports(root: Path) -> list[str]:
    """Imports of analytics.evaluation from the live rooms (engine, monitor, alerts)."""
    return [
        f"{rel}:{line} imports {mod}"
        for rel, pkg, tree in modules(root)
        if pkg in LIVE_ROOMS
        for line, mod in imported(tree)
        if mod == "analytics.evaluation" or mod.startswith("analytics.evaluation.")
    ]


def test_every_migration_table_has_one_owner() -> None:
    assert migration_tables(ROOT) == set(OWNERS)


def test_no_package_imports_another_packages_repository() -> None:
    assert repository_violations(ROOT) == []


def test_sql_names_only_tables_of_its_own_package() -> None:
    bad, used = table_violations(ROOT, OWNERS, EXCEPTIONS)
    assert bad == []
    assert used == set(EXCEPTIONS), "an exception is no longer needed: remove it"


def test_detection_engine_imports_no_io() -> None:
    assert purity_violations(ROOT) == []


def test_live_pipeline_does_not_import_evaluation() -> None:
    assert live_evaluation_imports(ROOT) == []


def _plant(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_checks_catch_planted_violations(tmp_path: Path) -> None:
    _plant(tmp_path, "servitize/migrations/0001_x.sql", "CREATE TABLE telemetry (x int);\n")
    _plant(tmp_path, "ingest/repository.py", 'Q = "SELECT x FROM telemetry"\n')
    _plant(
        tmp_path,
        "billing/usage_repository.py",
        '"""Reads FROM telemetry (a docstring, not SQL)."""\n'
        "from ingest import repository\n"
        'Q = f"SELECT count(*) FROM telemetry WHERE {1}"\n',
    )
    _plant(tmp_path, "analytics/detectors/bad.py", "import asyncpg\nfrom servitize import db\n")
    _plant(tmp_path, "analytics/monitor/live.py", "from analytics.evaluation import nab\n")
    owners = {"telemetry": "ingest"}
    assert repository_violations(tmp_path) == [
        "billing/usage_repository.py:2 imports ingest.repository"
    ]
    bad, used = table_violations(tmp_path, owners, {})
    assert bad == ["billing/usage_repository.py:3 billing names telemetry (owner: ingest)"]
    assert used == set()
    assert purity_violations(tmp_path) == [
        "analytics/detectors/bad.py:1 imports asyncpg",
        "analytics/detectors/bad.py:2 imports servitize",
        "analytics/detectors/bad.py:2 imports servitize.db",
    ]
    assert live_evaluation_imports(tmp_path) == [
        "analytics/monitor/live.py:1 imports analytics.evaluation",
        "analytics/monitor/live.py:1 imports analytics.evaluation.nab",
    ]
    exempt = {("billing/usage_repository.py", "telemetry"): "planted"}
    assert table_violations(tmp_path, owners, exempt) == ([], set(exempt))
