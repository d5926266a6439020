"""The layout rules of DESIGN.md, enforced: a pure core, and all SQL in bot/store."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
IO_MODULES = frozenset(
    {
        "aiohttp",
        "aiosmtpd",
        "aiosmtplib",
        "apscheduler",
        "asyncio",
        "slack_sdk",
        "socket",
        "sqlite3",
        "sqlite_utils",
        "subprocess",
        "time",
        "urllib",
        "bot.store",
        "bot.adapters",
    }
)
CLOCK_CALLS = ("datetime.now", "datetime.utcnow", "date.today", "time.time", "time.monotonic")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _is_io(module: str) -> bool:
    return any(module == io or module.startswith(f"{io}.") for io in IO_MODULES)


def test_core_modules_import_no_io():
    sources = sorted((BOT / "core").rglob("*.py"))
    assert len(sources) > 5
    offenders = {
        str(path.relative_to(BOT)): sorted(m for m in _imports(path) if _is_io(m))
        for path in sources
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_core_never_reads_the_clock():
    for path in (BOT / "core").rglob("*.py"):
        text = path.read_text()
        assert not [call for call in CLOCK_CALLS if f"{call}(" in text], path


def test_only_the_store_speaks_sql():
    for path in BOT.rglob("*.py"):
        if (BOT / "store") in path.parents:
            continue
        sql = {m for m in _imports(path) if m.split(".")[0] in {"sqlite3", "sqlite_utils"}}
        assert not sql, path
