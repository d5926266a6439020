"""The vote call's own terms: when the vote opened and when it may close.

A call states its period in many ways ("open for at least 72 hours", "closes
December 12th", "until Friday"); the policy's minimum always applies, and
whether the stated period is a minimum decides if later ballots are late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.core.text import MONTH_NAME, new_lines
from bot.core.votes.grammar import paragraph_sentences
from bot.core.votes.values import NUMBER_WORDS, number_of
from bot.core.votes.zones import ZONE_PATTERN, zone_at


@dataclass(frozen=True, slots=True)
class CallTerms:
    """What the vote call says about its own period."""

    opened_at: datetime
    closes_at: datetime
    minimum_closes_at: datetime
    stated_closes_at: datetime | None
    stated_sentence: str
    # "open for at least 72 hours" is a minimum; ballots after it are normal.
    stated_is_minimum: bool = True
    # "ballots that arrive later will not be counted": the call makes its stated close a
    # cut-off, so a ballot after it is not counted (without such words it only flags it).
    late_ballots_void: bool = False


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {month: number for number, month in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIOD_CONTEXT_RE = re.compile(
    r"\b(?:vote|voting|open|close[sd]?|closing|lazy|objections?)\b", re.I
)
_DURATION_RE = re.compile(
    r"\b(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|fourteen|seventy[- ]two)"
    r"\s*-?\s*"
    r"(?P<unit>hours?|hrs?|h|days?|business days?|weeks?)\b",
    re.IGNORECASE,
)
_CLOSE_WORD_RE = re.compile(
    r"\b(?:close[sd]?|closing|ends?|ending|until|till|deadline"
    # "Please vote by Mar 11": "by" before a date or a weekday, not "called by Alice".
    r"|by(?=\s+(?:the\s+end\s+of\s+)?(?:\d|(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr"
    r"|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)))\b",
    re.I,
)
# The sentence must be about the vote ("issues closed on Nov 3" is not); a deadline in
# the call is the vote's.
_ABOUT_VOTE_RE = re.compile(r"\b(?:votes?|voting|polls?|ballots?|deadline)\b", re.IGNORECASE)
_MONTH_RE = rf"(?P<month>{MONTH_NAME})\.?"
# A time needs ":mm" or am/pm, so the year in "Dec 2017" is never read as 20:17.
_TIME_RE = (
    r"(?:,?\s*(?:at\s+)?(?P<hour>\d{1,2})(?=:\d{2}|\s*[ap]m\b)(?::(?P<minute>\d{2}))?"
    r"\s*(?P<ampm>am|pm)?\s*(?:" + ZONE_PATTERN + r")?(?!\d))?"
)
_ISO_DATE_RE = re.compile(
    r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::\d{2})?\s*(?:" + ZONE_PATTERN + r")?)?",
    re.IGNORECASE,
)
# (The hour after a day written first is no day: "Monday 18 December 13:00 UTC".)
_MONTH_DAY_RE = re.compile(
    _MONTH_RE
    + r"\s+(?P<day>\d{1,2})(?!\d|:\d|\s*[ap]m\b)(?:st|nd|rd|th)?(?:,?\s*(?P<year>\d{4}))?"
    + _TIME_RE,
    re.IGNORECASE,
)
_DAY_MONTH_RE = re.compile(
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MONTH_RE
    + r"(?:,?\s*(?P<year>\d{4}))?"
    + _TIME_RE,
    re.IGNORECASE,
)
# "closes at 10am CET on March 7": the time written before the day it is on.
_TIME_BEFORE_RE = re.compile(
    r"\b(?:at\s+)?(?P<hour>\d{1,2})(?=:\d{2}|\s*[ap]m\b)(?::(?P<minute>\d{2}))?\s*(?P<ampm>am|pm)?"
    r"\s*(?:" + ZONE_PATTERN + r")?\s*[,(]?\s*(?:on\s+)?(?:the\s+)?$",
    re.IGNORECASE,
)
_AT_LEAST_RE = re.compile(r"\bat least\b|\bminimum\b|\bor (?:more|longer)\b", re.I)
_LATE_VOID_RE = re.compile(
    r"\b(?:ballots?|votes?)\s+(?:that\s+(?:arrive|come\s+in|are\s+(?:cast|sent|received))\s+|received\s+|cast\s+)?"
    r"(?:after\s+(?:that|this|then|the\s+deadline|the\s+close)|later|late)\s+(?:will|would|shall|are|do)?\s*"
    r"(?:not|n't|never)\s+(?:be\s+)?counted?\b"
    r"|\blate\s+(?:ballots?|votes?)\s+(?:will\s+not|won't|are\s+not|do\s+not|don't)\s+(?:be\s+)?count",
    re.IGNORECASE,
)
_WEEKDAY_RE = re.compile(r"\b(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b" + _TIME_RE, re.IGNORECASE)


# A call that asks for ballots in words: "Please reply with yes, no or abstain", "Vote:
# Yes / No / Abstain", "[ ] yes [ ] no".
_WORDED_CALL_RE = re.compile(
    r"\b(?:yes|aye)\b\s*(?:,|/|\||\bor\b)\s*(?:\[\s*\]\s*)?\b(?:no|nay)\b", re.IGNORECASE
)
# Markdown's emphasis around the words: "please reply **yes** or **no**".
_EMPHASIS_RE = re.compile(r"(\*{1,2}|_{1,2})(?=\w)([^*_\n]{1,20}?)(?<=\w)\1")
_SIGNED_VALUE_RE = re.compile(r"(?<![\w.])[+\-−–]1\b")


def asks_for_words(text: str) -> bool:
    """Whether a call asks for yes / no (/ abstain) rather than +1 / 0 / -1."""
    own = _EMPHASIS_RE.sub(r"\2", "\n".join(new_lines(text)))
    return bool(_WORDED_CALL_RE.search(own)) and not _SIGNED_VALUE_RE.search(own)


_COUNT = r"(\d{1,2}|" + "|".join(word for word in NUMBER_WORDS if " " not in word) + ")"
# "passes with at least three +1 from maintainers", "requires 3 binding +1 votes", "needs
# the approval of two thirds of all voting TSC members, i.e. five of the seven of us": how
# many approving ballots the call says the vote needs. ("at least 72 hours" is a period.)
_STATED_MINIMUM_RE = re.compile(
    r"\b(?:at\s+least|requires?|needs?|minimum\s+of)\s+"
    + _COUNT
    + r"\s+(?:\w+\s+){0,2}?(?:[+]1|yes|approv\w*|votes?\s+in\s+favou?r)"
    r"|\b(?:i\.?e\.?,?|that\s+is,?|so|meaning)\s+"
    + _COUNT
    + r"\s+of\s+(?:the\s+|all\s+)?"
    + _COUNT
    + r"\b",
    re.IGNORECASE,
)
# How far before the number the words saying it is needed may be (characters).
_RULE_WINDOW = 120
_NEEDS_APPROVAL_RE = re.compile(r"\b(?:pass\w*|approv\w*|need\w*|requir\w*|majority)\b", re.I)


def stated_minimum_plus(text: str) -> int | None:
    """How many approving ballots the call itself says the vote needs, if it says.

    A project's rules are its configuration; a call may ask for more for the matter at
    hand ("policy changes need five of the seven of us"), and a report that ignored it
    would pass what the caller announces as failed. (Read only in the call's own text:
    a quoted rule or a reply's opinion of it sets nothing.)
    """
    # The call's own words as one line ("i.e." must not end the sentence it explains), and
    # without Markdown's emphasis ("needs **5** votes in favour").
    own = _EMPHASIS_RE.sub(r"\2", " ".join(" ".join(new_lines(text)).split()))
    for found in _STATED_MINIMUM_RE.finditer(own):
        before = own[max(0, found.start() - _RULE_WINDOW) : found.end()]
        if _NEEDS_APPROVAL_RE.search(before):
            return number_of(found[1] or found[2])
    return None


def parse_call(
    text: str, opened_at: datetime, *, min_duration: timedelta = timedelta(hours=72)
) -> CallTerms:
    """When a vote called at ``opened_at`` closes: the stated date or duration, never
    earlier than the policy's minimum."""
    minimum = opened_at + min_duration
    stated, sentence = _stated_close(text, opened_at)
    closes = minimum if stated is None else max(stated, minimum)
    at_least = stated is None or bool(_AT_LEAST_RE.search(sentence))
    void = stated is not None and bool(_LATE_VOID_RE.search(" ".join(new_lines(text))))
    return CallTerms(opened_at, closes, minimum, stated, sentence, at_least, void)


def _stated_close(text: str, opened_at: datetime) -> tuple[datetime | None, str]:
    found, sentence = _date_after(text, _CLOSE_WORD_RE, opened_at)
    if found is not None:
        return found, sentence
    for sentence in paragraph_sentences([line.strip() for line in new_lines(text)]):
        if _PERIOD_CONTEXT_RE.search(sentence):
            match = _DURATION_RE.search(sentence)
            if match:
                return opened_at + _duration(match), sentence
    return None, ""


# "The vote closed yesterday, Friday 2 January 2026 at 17:00 UTC": a RESULT telling when.
_CLOSED_RE = re.compile(r"\b(?:closed|ended|ran\s+until|was\s+open\s+until)\b", re.IGNORECASE)


def announced_close(text: str, opened_at: datetime) -> datetime | None:
    """When a RESULT says the vote it announces closed, given as a date ("closed on
    Friday 16 May 2025 at 23:59 AoE"); a weekday alone ("closed on Friday") or "closed
    yesterday" names no moment this reading trusts."""
    return _date_after(text, _CLOSED_RE, opened_at, weekday=False)[0]


# The caller moving the close: "Extending: the vote now closes on Friday 2 January 2026,
# 17:00 UTC.", "I'll keep the vote open until Friday to give PMC members a chance".
_EXTENDS_RE = re.compile(
    r"\bextend(?:s|ed|ing)?\b|\bkeep\s+(?:the|this)\s+vote\s+open\b|\bleave\s+(?:the|this)\s+vote"
    r"\s+open\b|\bvote\s+now\s+(?:closes|ends|runs)\b",
    re.IGNORECASE,
)
# Said as a possibility, not done: "If we don't reach three binding votes I'll extend ...".
_MAYBE_RE = re.compile(
    r"^\s*(?:if|unless|should)\b|\b(?:if|unless)\s+(?:we|it|there|nobody)\b|\?", re.I
)


def extended_close(text: str, posted_at: datetime) -> tuple[datetime | None, str]:
    """The new close a caller's reply gives the vote, and the sentence that gives it: a
    date or a weekday (the next one after the reply) after words that extend the vote.
    None for an extension only thought of ("If we don't get three binding votes, I'll
    extend it") or one that names no day."""
    return _date_after(text, _EXTENDS_RE, posted_at, unless=_MAYBE_RE)


def _date_after(
    text: str,
    words: re.Pattern[str],
    at: datetime,
    *,
    weekday: bool = True,
    unless: re.Pattern[str] | None = None,
) -> tuple[datetime | None, str]:
    """The first date written after ``words`` in a sentence about the vote ("issues
    closed on Nov 3" is not the vote's), read from ``at``, and its sentence; sentences
    ``unless`` matches are passed over."""
    for sentence in paragraph_sentences([line.strip() for line in new_lines(text)]):
        if not _ABOUT_VOTE_RE.search(sentence) or (unless is not None and unless.search(sentence)):
            continue
        found = words.search(sentence)
        when = _close_date(sentence[found.end() :], at, weekday=weekday) if found else None
        if when is not None:
            return when, sentence
    return None, ""


def _duration(match: re.Match[str]) -> timedelta:
    raw = match.group("n").casefold()
    amount = 1 if raw in ("a", "an") else number_of(raw)
    unit = match.group("unit").casefold()
    if unit.startswith("h"):
        return timedelta(hours=amount)
    if unit.startswith("w"):
        return timedelta(weeks=amount)
    return timedelta(days=amount)


def _close_date(text: str, opened_at: datetime, *, weekday: bool = True) -> datetime | None:
    tz = opened_at.tzinfo
    iso = _ISO_DATE_RE.search(text)
    if iso:
        day = date(int(iso["year"]), int(iso["mon"]), int(iso["day"]))
        return _at_time(day, iso["hour"], iso["minute"], None, iso["tz"], tz)
    for pattern in (_MONTH_DAY_RE, _DAY_MONTH_RE):
        match = pattern.search(text)
        if match:
            month = _MONTHS[match["month"][:3].casefold()]
            year = int(match["year"]) if match["year"] else opened_at.year
            day = date(year, month, int(match["day"]))
            if not match["year"] and day < opened_at.date() - timedelta(days=1):
                day = day.replace(year=year + 1)
            return _at_time(day, *_clock(text, match), tz)
    named = _WEEKDAY_RE.search(text) if weekday else None
    if named:
        target = _WEEKDAYS.index(named["weekday"].casefold())
        ahead = (target - opened_at.weekday() - 1) % 7 + 1
        day = opened_at.date() + timedelta(days=ahead)
        return _at_time(day, *_clock(text, named), tz)
    return None


def _clock(text: str, day: re.Match[str]) -> tuple[str | None, str | None, str | None, str | None]:
    """(hour, minute, am/pm, zone) of a day's deadline: written after the day ("March 7
    at 10:00 UTC"), else right before it ("at 10am CET on March 7")."""
    if day["hour"] is None:
        before = _TIME_BEFORE_RE.search(text[: day.start()])
        if before is not None:
            return before["hour"], before["minute"], before["ampm"], before["tz"]
    return day["hour"], day["minute"], day["ampm"], day["tz"]


def _at_time(
    day: date,
    hour: str | None,
    minute: str | None,
    ampm: str | None,
    tz_name: str | None,
    tz: tzinfo | None,
) -> datetime:
    # Without a stated time the vote runs to the end of that day; without a stated zone,
    # in the caller's zone (as stored: UTC). A named zone is read as zones.py says.
    zone = (zone_at(tz_name, day) or UTC) if tz_name else tz
    if hour is None:
        moment = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone)
    else:
        clock = int(hour)
        if ampm:
            clock = clock % 12 + (12 if ampm.casefold() == "pm" else 0)
        moment = datetime(day.year, day.month, day.day, clock, int(minute or 0), tzinfo=zone)
    # Reports print times in UTC; a deadline written in another zone is converted.
    return moment.astimezone(UTC) if tz_name and moment.tzinfo is not None else moment
