"""Rendering messages from templates/ (Jinja2). Pure: data in, text out.

One template per message kind and channel: ``email/``, ``discourse/``,
``slack/``, ``web/``. Text templates are not auto-escaped (they go into mail
bodies); ``web/`` templates are.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = _day
    env.filters["number"] = _number
    env.filters["clip"] = _clip
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``; a missing variable is an error."""
    return environment().get_template(template).render(**context)


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown"


def _clip(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rsplit(" ", 1)[0] + "…"


def _number(value: float) -> str:
    """Vote values as people write them: +1, 0, -0.5."""
    if value == 0:
        return "0"
    text = f"{value:+.2f}".rstrip("0").rstrip(".")
    return text
