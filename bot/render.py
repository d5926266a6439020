"""Rendering messages from templates/ (Jinja2). Pure: data in, text out.

One template per message kind and channel: ``email/``, ``discourse/``,
``slack/``, ``web/``. Text templates are not auto-escaped (they go into mail
bodies); ``web/`` templates are.

Dates are shown in the community's time zone when the template is given
``timezone`` (a ``ZoneInfo``: ``project.timezone``), in UTC otherwise; stored
times are always UTC. Ages use one rounding rule everywhere
(:func:`bot.core.rfcs.human_duration`: whole units, rounded down).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from bot.core.rfcs import human_duration
from bot.core.votes import forecast

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
    env.filters["date"] = _date
    env.filters["duration"] = human_duration
    env.filters["number"] = _number
    env.filters["clip"] = _clip
    env.filters["forecast"] = forecast
    return env


def render(template: str, **context: Any) -> str:
    """Render ``templates/<template>`` with ``context``; a missing variable is an error."""
    return environment().get_template(template).render(**context)


def compile_pages(folder: str) -> int:
    """Compile every HTML template under ``folder`` (``web/``) now; how many.

    Jinja compiles a template when it is first rendered: the dashboard's first page
    after a start compiled three (its own, the base and the macros), 40 ms on an
    idle machine and 150 ms on a busy one, on the event loop that answers SMTP too.
    """
    env = environment()
    names = env.list_templates(filter_func=lambda n: n.startswith(folder) and n.endswith(".html"))
    for name in names:
        env.get_template(name)
    return len(names)


@pass_context
def _day(context: Context, moment: datetime | None) -> str:
    """ "2026-11-20 09:00 UTC", or in the template's ``timezone`` ("2026-11-20 10:00 CET")."""
    if moment is None:
        return "unknown"
    return shown_time(moment, _zone(context))


@pass_context
def _date(context: Context, moment: datetime | None) -> str:
    """ "2026-11-20", the day in the template's ``timezone``."""
    if moment is None:
        return "unknown"
    return moment.astimezone(_zone(context)).strftime("%Y-%m-%d")


def shown_time(moment: datetime, zone: tzinfo | None = None) -> str:
    """A stored (UTC) time as people of ``zone`` read it, the zone named."""
    local = moment.astimezone(zone or UTC)
    name = "UTC" if local.utcoffset() == timedelta(0) and zone in (None, UTC) else local.tzname()
    return local.strftime(f"%Y-%m-%d %H:%M {name or 'UTC'}")


def _zone(context: Context) -> tzinfo:
    zone = context.get("timezone")
    return zone if isinstance(zone, tzinfo) else UTC


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
