"""The configuration's documentation, checked against the code (as datasette checks its
docs): every key `config/example.toml` and the README's table name exists, every key
there is has a line in `config/example.toml`, and every key is read by some code."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from bot.config import Config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.toml"
README = ROOT / "README.md"
# A table name (`[a.b]`, `[[a.b]]`) or a key line, whether commented out or not.
_HEADER = re.compile(r"^#?\s?\[\[?([A-Za-z0-9_.\-]+)\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^(?:# )?([a-z_][a-z0-9_]*) = ")
NAME = "NAME"  # a table whose keys the user names: [modules.indexer], [votes.kinds.release]


def model_paths(model: type[BaseModel], prefix: str = "") -> dict[str, FieldInfo]:
    """Every key of the configuration, dotted, with NAME for user-named tables."""
    found: dict[str, FieldInfo] = {}
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{field.alias or name}"
        found[path] = field
        for named, sub in _sections(field.annotation):
            found.update(model_paths(sub, f"{path}.{NAME}." if named else f"{path}."))
    return found


def _sections(annotation: object) -> list[tuple[bool, type[BaseModel]]]:
    """The section models a field holds: (keyed by user names?, model)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(False, annotation)]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is dict and _is_model(args[1]):
        return [(True, args[1])]
    if origin in (list, tuple) and args and _is_model(args[0]):
        return [(False, args[0])]
    return [found for arg in args for found in _sections(arg)]


def _is_model(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


PATHS = model_paths(Config)


def _canonical(dotted: str) -> str | None:
    """A written key as a model path ("modules.indexer.state" -> "modules.NAME.state");
    a key under a field that maps names to plain values (identities, slack.users) is that
    field. None: no such key."""
    path = ""
    for part in dotted.split("."):
        candidate = f"{path}.{part}" if path else part
        if candidate in PATHS:
            path = candidate
        elif f"{path}.{NAME}" in {p.rsplit(".", 1)[0] for p in PATHS if p.startswith(path)}:
            path = f"{path}.{NAME}"
        elif path in PATHS and not any(p.startswith(f"{path}.") for p in PATHS):
            return path  # "Alice Archer" under [identities]
        else:
            return None
    return path


def example_keys() -> dict[str, int]:
    """Keys `config/example.toml` documents (commented-out sections too), by line."""
    table, found = "", {}
    for number, line in enumerate(EXAMPLE.read_text().splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            table = header.group(1)
            found[table] = number
            continue
        key = _KEY.match(line)
        if key:
            found[f"{table}.{key.group(1)}" if table else key.group(1)] = number
    return found


def test_every_key_the_example_documents_exists():
    unknown = {key: line for key, line in example_keys().items() if _canonical(key) is None}
    assert unknown == {}, "config/example.toml documents keys Config does not have"


def test_every_key_there_is_has_a_line_in_the_example():
    documented = {key for key in map(_canonical, example_keys()) if key is not None}
    missing = []
    for path in PATHS:
        if "." not in path or path in documented:
            continue  # a section is shown by its keys
        # A key given whole (an inline table) documents its parts; a table of named
        # tables ([votes.kinds.release]) is shown by them.
        parents = [path.rsplit(".", n)[0] for n in range(1, path.count(".") + 1)]
        if any(parent in documented and "." in parent for parent in parents):
            continue
        if any(key.startswith(f"{path}.") for key in documented):
            continue
        missing.append(path)
    assert missing == [], "keys config/example.toml does not show"


def _readme_keys() -> list[str]:
    text = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    keys = []
    for row in re.findall(r"^\| (.+?) \|", text, re.MULTILINE):
        for token in re.findall(r"`([^`]+)`", row):
            keys.append(token.split(" ")[0])
    return keys


def _pattern(token: str) -> re.Pattern[str]:
    """`responsiveness.policy.{s0,s1}.*_after_days` as a regex over model paths."""
    escaped = re.escape(token)
    escaped = re.sub(
        r"\\\{(.+?)\\\}", lambda m: "(?:" + "|".join(m.group(1).split(",")) + ")", escaped
    )
    escaped = escaped.replace(r"\*", r"[a-z_]*").replace(r"NAME", NAME)
    return re.compile(escaped + r"(?:\..*)?$")


def test_every_key_the_readme_table_names_exists():
    tokens = _readme_keys()
    assert len(tokens) > 30
    unknown = [t for t in tokens if not any(_pattern(t).match(p) for p in PATHS)]
    assert unknown == [], "README's configuration table names keys Config does not have"


def _code() -> str:
    return "\n".join(
        path.read_text() for path in (ROOT / "bot").rglob("*.py") if path.name != "config.py"
    )


def test_every_key_is_read_by_some_code():
    """A documented key that no code reads is a promise nothing keeps."""
    code = _code()
    config_py = (ROOT / "bot" / "config.py").read_text()
    unread = []
    for path, field in PATHS.items():
        attribute = path.rsplit(".", 1)[-1]
        name = next(n for n, f in _owner_fields(path) if f is field)
        read = re.search(rf"\.{name}\b|[\"']{attribute}[\"']", code) or re.search(
            rf"self\.{name}\b", config_py
        )
        if not read:
            unread.append(path)
    assert unread == []


def _owner_fields(path: str) -> list[tuple[str, FieldInfo]]:
    model: type[BaseModel] = Config
    parts = path.split(".")
    for part in parts[:-1]:
        if part == NAME:
            continue
        field = next(f for n, f in model.model_fields.items() if (f.alias or n) == part)
        model = next(sub for _, sub in _sections(field.annotation))
    return list(model.model_fields.items())
