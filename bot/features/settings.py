"""The settings step: the core's values derived from the configuration once.

Policies, the directory of people, the ledger's and the RFCs' settings, the archive
links are built from the configuration when first asked for and then reused by every
tick, page and command that holds the same Config object.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import TypeVar

from bot.config import Config

T = TypeVar("T")


def per_config(build: Callable[[Config], T]) -> Callable[[Config], T]:
    """``build(config)`` once per configuration object: the settings step.

    The core's values (policies, the directory of people, the ledger's and the RFCs'
    settings, the archive) are derived from the configuration when it is first asked
    for and then reused by every tick, page and command that holds the same Config.
    Config is frozen, so the object is the key; a reloaded file is a new object.
    """
    built: dict[int, tuple[Config, T]] = {}

    @functools.wraps(build)
    def derived(config: Config) -> T:
        hit = built.get(id(config))
        if hit is not None and hit[0] is config:
            return hit[1]
        value = build(config)
        if len(built) > 16:  # tests make many configs; a process has one or two
            built.clear()
        built[id(config)] = (config, value)
        return value

    return derived


def digest(described: object) -> str:
    """A short, stable fingerprint of plain values (what derived state was computed with)."""
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
