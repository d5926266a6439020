"""The layout rules of DESIGN.md, enforced: a pure core, and all SQL in bot/store."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
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


NETWORK_LIBRARIES = ("aiohttp", "aiosmtpd", "aiosmtplib", "slack_sdk", "apscheduler")


def _modules_under(package: str) -> list[str]:
    root = BOT.parent / package.replace(".", "/")
    names = [package]
    for path in sorted(root.rglob("*.py")):
        if path.name != "__init__.py":
            names.append(".".join(path.relative_to(BOT.parent).with_suffix("").parts))
    return names


def test_the_core_the_features_and_the_config_load_no_network_library():
    """A feature is store + core: testable, importable by a tool, without a server stack."""
    names = [*_modules_under("bot.core"), *_modules_under("bot.features"), "bot.config"]
    probe = (
        "import importlib, json, sys\n"
        f"found = {{}}\nfor name in {names!r}:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        f"    new = set(sys.modules) - before\n"
        f"    found[name] = sorted(m for m in new if m in {NETWORK_LIBRARIES!r})\n"
        "print(json.dumps(found))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BOT.parent, capture_output=True, text=True, check=True
    )
    loaded = {name: libs for name, libs in json.loads(result.stdout).items() if libs}
    assert loaded == {}
