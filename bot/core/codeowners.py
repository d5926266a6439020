"""GitHub CODEOWNERS: path patterns to owners, and a module's maintainers from them.

The syntax is GitHub's: one rule a line, ``pattern owner...``, ``#`` comments,
owners as ``@login``, ``@org/team`` or an address; patterns follow .gitignore
rules (a leading ``/`` or a ``/`` inside anchors at the root, a trailing ``/``
means a directory, ``*`` stays within a directory, ``**`` crosses them,
``docs/*`` does not reach ``docs/a/b``), and for a file the *last* matching rule
decides. A rule with no owners takes a path's ownership away.

A module is owned by whoever the last matching rule names for a file directly in
the directory its ``paths`` point to, plus the owners of rules for parts inside
that directory (a sub-area's owner is a maintainer of the module too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_WILDCARD = re.compile(r"[*?\[]")
# Stands for "a file directly in this directory" when a module names a directory.
_PROBE = "\x00file"


@dataclass(frozen=True, slots=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int


def parse_codeowners(text: str) -> list[Rule]:
    """The rules in file order; lines that are blank or comments are skipped."""
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = _strip_comment(line).strip()
        if not stripped:
            continue
        pattern, *owners = stripped.split()
        rules.append(Rule(pattern.replace("\\#", "#"), tuple(owners), number))
    return rules


def _strip_comment(line: str) -> str:
    # "#" starts a comment unless escaped as "\#".
    return re.split(r"(?<!\\)#", line, maxsplit=1)[0]


def owners_of(path: str, rules: Sequence[Rule]) -> tuple[str, ...]:
    """The owners GitHub would request for ``path`` (relative to the repository root)."""
    path = path.lstrip("/")
    for rule in reversed(rules):
        if _regex(rule.pattern).match(path):
            return rule.owners
    return ()


def module_owners(paths: Iterable[str], rules: Sequence[Rule]) -> tuple[str, ...]:
    """The owners of a module whose files are under ``paths`` (globs as in modules.*.paths)."""
    found: list[str] = []
    for path in paths:
        prefix = _literal_prefix(path.lstrip("/"))
        probe = prefix + _PROBE if prefix.endswith("/") or not prefix else prefix
        found.extend(owners_of(probe, rules))
        if prefix.endswith("/") or not prefix:
            for rule in rules:
                inner = _literal_prefix(rule.pattern.lstrip("/"))
                if _anchored(rule.pattern) and inner.startswith(prefix) and inner != prefix:
                    found.extend(rule.owners)
    return tuple(dict.fromkeys(found))


def login_of(owner: str) -> str:
    """``@tqchen`` -> ``tqchen``; teams (``@org/team``) and addresses stay as they are."""
    return owner[1:] if owner.startswith("@") and "/" not in owner else owner


def _literal_prefix(glob: str) -> str:
    """The part of a path pattern before its first wildcard, cut back to a directory."""
    match = _WILDCARD.search(glob)
    if match is None:
        return glob
    head = glob[: match.start()]
    return head[: head.rfind("/") + 1]


def _anchored(pattern: str) -> bool:
    return pattern.startswith("/") or "/" in pattern.rstrip("/")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    start = "^" if _anchored(pattern) else "^(?:.*/)?"
    if directory:
        end = "/.*$"
    elif body.endswith("/*"):
        end = "$"  # docs/* owns docs/a, not docs/a/b
    else:
        end = "(?:/.*)?$"  # a name owns what is under it, if it is a directory
    return re.compile(start + _translate(body) + end, re.DOTALL)


def _translate(glob: str) -> str:
    out = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            out.append(".*")
            index += 2
        elif glob[index] == "*":
            out.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(glob[index]))
            index += 1
    return "".join(out)
