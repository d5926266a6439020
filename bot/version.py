"""Which Quorum this is: `quorum --version`, and the version a store records as its writer."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

DISTRIBUTION = "quorum-bot"


def version() -> str:
    """The installed distribution's version ("0+unknown" when run from a bare checkout)."""
    try:
        return package_version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def version_text(sqlite_version: str) -> str:
    """`quorum --version`: ours, and the Python and SQLite a bug report needs."""
    python = ".".join(str(part) for part in sys.version_info[:3])
    return f"quorum {version()} (Python {python}, SQLite {sqlite_version})"


def version_key(text: str) -> tuple[int, ...]:
    """ "0.10.2" -> (0, 10, 2), for ordering; anything after the numbers is ignored."""
    parts: list[int] = []
    for piece in text.split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)
