"""Named time zones as vote calls write them: "18:00 PST", "CET", "UTC+8", "Pacific time".

A deadline without a zone is read in the caller's zone (UTC, as stored); one
with a zone is read in that zone. The table holds the abbreviations and names
release managers use. Where a name is ambiguous, one reading is chosen and
documented (also in the README):

* ``CST`` is US Central Standard Time (UTC-6), not China Standard Time; write
  "Beijing time", "China time" or "UTC+8" for that.
* ``IST`` is India Standard Time (UTC+5:30), not Irish or Israel time.
* ``BST`` is British Summer Time (UTC+1).
* An abbreviation means what it says ("PST" is UTC-8 even in July); a name
  without standard/daylight ("PT", "Pacific time", "Central European time")
  follows that region's daylight-saving rule on the day (US since 2007, EU
  since 1996). The rules are computed here so the core stays pure (no tz database).

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from datetime import date, timedelta, timezone, tzinfo

# Fixed offsets in hours.
_FIXED: dict[str, float] = {
    "utc": 0,
    "gmt": 0,
    "ut": 0,
    "z": 0,
    "pst": -8,
    "pdt": -7,
    "mst": -7,
    "mdt": -6,
    "cst": -6,
    "cdt": -5,
    "est": -5,
    "edt": -4,
    "akst": -9,
    "akdt": -8,
    "hst": -10,
    "wet": 0,
    "west": 1,
    "bst": 1,
    "cet": 1,
    "cest": 2,
    "met": 1,
    "mest": 2,
    "eet": 2,
    "eest": 3,
    "msk": 3,
    "ist": 5.5,
    "hkt": 8,
    "sgt": 8,
    "awst": 8,
    "jst": 9,
    "kst": 9,
    "acst": 9.5,
    "aest": 10,
    "aedt": 11,
    "nzst": 12,
    "nzdt": 13,
    # "Anywhere on Earth": the day ends last at UTC-12 (conference and W3C deadlines).
    "aoe": -12,
    "beijing": 8,
    "china": 8,
    "india": 5.5,
    "japan": 9,
    "korea": 9,
    "singapore": 8,
}
# (standard offset, daylight rule) for names that follow daylight saving.
_SEASONAL: dict[str, tuple[float, str]] = {
    "pt": (-8, "us"),
    "pacific": (-8, "us"),
    "mt": (-7, "us"),
    "mountain": (-7, "us"),
    "ct": (-6, "us"),
    "central": (-6, "us"),
    "et": (-5, "us"),
    "eastern": (-5, "us"),
    "central european": (1, "eu"),
    "western european": (0, "eu"),
    "eastern european": (2, "eu"),
    "uk": (0, "eu"),
    "london": (0, "eu"),
    "british": (0, "eu"),
}
_NAMES = sorted({*_SEASONAL, *(k for k in _FIXED if len(k) > 4)}, key=len, reverse=True)
_ABBREVIATIONS = sorted((k for k in _FIXED if len(k) <= 4), key=len, reverse=True)
_ABBREVIATIONS += [k for k in _SEASONAL if len(k) <= 2]

# What may follow a time: "PST", "(PST)", "UTC+8", "GMT-07:00", "+0800", "Pacific time".
# Abbreviations must be written in capitals: "ist" is a German word, "et" a French one.
ZONE_PATTERN = (
    r"(?:in\s+)?\(?(?P<tz>"
    r"(?:UTC|GMT)\s*[+\-−–]\s*\d{1,2}(?::?\d{2})?"
    r"|[+\-]\d{2}:?\d{2}"
    r"|(?i:(?:" + "|".join(map(re.escape, _NAMES)) + r")(?:\s+(?:standard|daylight|summer))?"
    r"\s+time)"
    r"|(?-i:(?:" + "|".join(a.upper() for a in _ABBREVIATIONS) + r"|AoE))\b"
    r")\)?"
)
_OFFSET_RE = re.compile(r"^(?:utc|gmt)?\s*(?P<sign>[+\-−–])\s*(?P<h>\d{1,2}):?(?P<m>\d{2})?$", re.I)


def zone_at(name: str, day: date) -> tzinfo | None:
    """The zone a written name means on ``day``; None when it is not one we know."""
    text = " ".join(name.casefold().split())
    offset = _OFFSET_RE.match(text)
    if offset:
        hours = int(offset["h"]) + int(offset["m"] or 0) / 60
        return _fixed(-hours if offset["sign"] != "+" else hours)
    text = re.sub(r"\s+(?:standard|daylight|summer)?\s*time$", "", text)
    text = re.sub(r"\s+(?:standard|daylight|summer)$", "", text)
    if text in _FIXED:
        return _fixed(_FIXED[text])
    if text in _SEASONAL:
        standard, rule = _SEASONAL[text]
        return _fixed(standard + (1 if _daylight(rule, day) else 0))
    return None


def _fixed(hours: float) -> tzinfo:
    return timezone(timedelta(hours=hours))


def _daylight(rule: str, day: date) -> bool:
    """Whether daylight saving is in force on ``day`` (by the day; the switch hour is ignored)."""
    if rule == "us":  # second Sunday of March to first Sunday of November
        return _nth_sunday(day.year, 3, 2) <= day < _nth_sunday(day.year, 11, 1)
    # EU: last Sunday of March to last Sunday of October
    return _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)


def _nth_sunday(year: int, month: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (nth - 1))


def _last_sunday(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)
