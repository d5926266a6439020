"""The layout rules of DESIGN.md, enforced: a pure core, and all SQL in bot/store."""

from __future__ import annotations

import ast
import graphlib
import json
import re
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


def test_the_command_line_starts_without_the_server_stack():
    """`quorum votes`, `quorum --help` and the shell's completion load no HTTP, Slack,
    scheduler or SMTP library: `run`, `fetch`, `tick` and `summary`'s rewrite import
    theirs when they run. Each one loaded at start cost every command 0.7 s."""
    probe = (
        "import json, sys\nimport bot.cli\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m in {SERVER_STACK!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=BOT.parent, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


SERVER_STACK = frozenset({*NETWORK_LIBRARIES, "apscheduler", "aiosmtpd", "bot.app", "bot.web"})


ARCHITECTURE = BOT.parent / "ARCHITECTURE.md"
_SECTION = re.compile(r"^`bot/([\w/]*)`", re.MULTILINE)
_NAMED = re.compile(r"`([\w/]+\.py)`")


def _sections() -> dict[str, str]:
    """ARCHITECTURE.md's "Every module" lists: package folder -> its text."""
    text = ARCHITECTURE.read_text().split("## Every module", 1)[1]
    starts = list(_SECTION.finditer(text))
    return {
        match.group(1): text[match.end() : following.start() if following else len(text)]
        for match, following in zip(starts, [*starts[1:], None], strict=True)
    }


def _files_of(folder: str) -> set[str]:
    """Module paths relative to ``folder``; a subpackage's modules as "votes/x.py"."""
    root = BOT / folder
    return {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if (folder or path.parent == BOT)  # the top level lists only its own files
        and path.read_text().strip()  # an empty __init__.py only marks a package
    }


def test_architecture_names_every_module_and_only_modules_that_exist():
    sections = _sections()
    assert set(sections) == {"", "core/", "store/", "features/", "sync/", "adapters/"}
    for folder, text in sections.items():
        files = _files_of(folder)
        subpackages = {name.split("/")[0] for name in files if "/" in name}
        resolved = set()
        for line in text.splitlines():
            # A subpackage's modules are named on its own line: "- `votes/` — `grammar.py` ...".
            sub = next((s for s in subpackages if line.startswith(f"- `{s}/`")), None)
            for name in _NAMED.findall(line):
                path = f"{sub}/{name}" if sub else name
                assert path in files, f"ARCHITECTURE.md names bot/{folder}{path}: no such module"
                resolved.add(path)
        unnamed = sorted(files - resolved - {f"{sub}/__init__.py" for sub in subpackages})
        assert unnamed == [], f"bot/{folder}: modules ARCHITECTURE.md does not name"


def _module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path, modules: set[str]) -> set[str]:
    """The bot modules `path` imports when it runs: in functions too, not for types only."""

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    found: set[str | None] = set()

    class Imports(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            ):
                for statement in node.orelse:
                    self.visit(statement)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            found.update(owner(alias.name) for alias in node.names if alias.name.startswith("bot"))

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level or not (node.module or "").startswith("bot"):
                return
            for alias in node.names:
                # `from bot.store import forum` imports the module bot.store.forum.
                found.add(
                    owner(f"{node.module}.{alias.name}")
                    if f"{node.module}.{alias.name}" in modules
                    else owner(node.module or "")
                )

    Imports().visit(ast.parse(path.read_text(), str(path)))
    return {name for name in found if name} - {_module_name(path)}


def test_no_module_imports_itself_back_even_lazily():
    # A cycle is what a function-level import hides; hiding it is not fixing it.
    sources = {_module_name(path): path for path in BOT.rglob("*.py")}
    assert len(sources) > 50
    graph = {name: _runtime_imports(path, set(sources)) for name, path in sources.items()}
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
