"""Rosters from where projects write them down, as dated changes.

Three forms are read:

- the ASF committee data that Whimsy publishes (``committee-info.json``): per
  committee a ``roster`` of ``availid -> {"name", "date"}``, the date being when
  the person joined the PMC; the file's ``last_updated`` dates the snapshot;
- a TVM-style ``CONTRIBUTORS.md``: ``## Committers`` (a ``(PMC)`` or ``(PPMC)``
  after a name marks a PMC member), ``## Reviewers`` and ``## Mentors`` sections of
  ``- [Name](https://github.com/login): @login - areas`` lines; undated, so the
  import says as of when;
- a plain CSV with a header row: ``name`` and any of ``role``, ``joined``,
  ``left``, ``github`` (or ``login``), ``email`` (or ``address``).

A snapshot lists who holds a role at one date; compared with what earlier
imports from the same source said, it becomes *changes*: a join dated by the
roster (or the snapshot) and a leave dated by the snapshot that no longer lists
someone. The roster as it stood on any day is replayed from the changes, so a
vote from 2021 is counted with the 2021 PMC. Pure: no I/O, no clock.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from bot.core.votes import name_key

PMC = "pmc"
COMMITTER = "committer"
REVIEWER = "reviewer"
MENTOR = "mentor"
# Whose votes bind in an ASF vote.
BINDING_ROLES = frozenset({PMC})

_MD_SECTION = re.compile(r"^#{2,3}\s+(?P<title>.+?)\s*#*\s*$")
_MD_ENTRY = re.compile(
    r"^\s*[-*+]\s+(?:\[(?P<linked>[^\]]+)\]\((?P<link>[^)\s]*)\)|(?P<plain>[^@(:\[]+))"
    r"\s*(?P<marks>(?:\([^)]*\)\s*)*):?\s*(?:@(?P<login>[\w-]+))?"
)
_GITHUB_PROFILE = re.compile(r"https?://github\.com/(?P<login>[\w-]+)/?$", re.IGNORECASE)
_PMC_MARK = re.compile(r"\(\s*p?pmc\b", re.IGNORECASE)
_SECTION_ROLES = (("committer", COMMITTER), ("reviewer", REVIEWER), ("mentor", MENTOR))


class RosterFormatError(ValueError):
    """The file is not a roster in the form it claims (or seems) to be."""


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """Someone holding a role, as one roster lists them."""

    name: str
    role: str
    joined: date | None = None
    left: date | None = None
    # GitHub logins and mail addresses the roster gives for them.
    logins: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    @property
    def member(self) -> str:
        return member_key(self.name)


@dataclass(frozen=True, slots=True)
class RosterSnapshot:
    """A roster as one source states it on ``as_of``.

    ``complete_roles`` are the roles the snapshot lists in full: a member of one of
    them whom an earlier import from ``source`` listed and this one does not has left.
    """

    source: str
    as_of: date
    entries: tuple[RosterEntry, ...]
    complete_roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class RosterChange:
    """``member`` (a name key) joined or left ``role`` on ``on``, as ``source`` says."""

    member: str
    name: str
    role: str
    change: str  # "join" or "leave"
    on: date
    source: str


@dataclass(frozen=True, slots=True)
class Span:
    """One stretch of someone holding a role; ``left`` is exclusive, None while it lasts."""

    member: str
    name: str
    role: str
    joined: date | None
    left: date | None

    def active_on(self, day: date) -> bool:
        return (self.joined is None or self.joined <= day) and (
            self.left is None or day < self.left
        )


def member_key(name: str) -> str:
    return name_key(name)


# -- reading -------------------------------------------------------------------------------


def detect_format(filename: str, text: str) -> str:
    """``committee-info``, ``contributors`` or ``csv``, from the name and the content."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "committee-info"
    if filename.lower().endswith((".md", ".markdown")) or re.search(r"^#{1,3}\s", text, re.M):
        return "contributors"
    return "csv"


def parse_committee_info(text: str, committee: str) -> RosterSnapshot:
    """One committee of Whimsy's ``committee-info.json``: its PMC with join dates."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise RosterFormatError(f"not JSON: {error}") from None
    committees = data.get("committees") if isinstance(data, dict) else None
    if not isinstance(committees, dict):
        raise RosterFormatError("no 'committees' object: not Whimsy's committee-info.json")
    info = committees.get(committee.lower())
    if not isinstance(info, dict) or not isinstance(info.get("roster"), dict):
        known = ", ".join(sorted(committees)[:8])
        raise RosterFormatError(
            f"no committee {committee!r} with a roster in the file (it has {known}, ...)"
        )
    entries = []
    for availid, person in sorted(info["roster"].items()):
        person = person if isinstance(person, dict) else {}
        name = str(person.get("name") or availid)
        entries.append(
            RosterEntry(
                name=name,
                role=PMC,
                joined=_date(person.get("date")),
                addresses=(f"{availid}@apache.org",),
            )
        )
    as_of = _date(str(data.get("last_updated", ""))[:10])
    if as_of is None:
        raise RosterFormatError("no 'last_updated' date: cannot date the snapshot")
    return RosterSnapshot(
        source=f"committee-info:{committee.lower()}",
        as_of=as_of,
        entries=tuple(entries),
        complete_roles=frozenset({PMC}),
    )


def parse_contributors_md(
    text: str, as_of: date, source: str = "CONTRIBUTORS.md"
) -> RosterSnapshot:
    """A TVM-style CONTRIBUTORS.md, as it stood on ``as_of``."""
    entries: list[RosterEntry] = []
    role: str | None = None
    for line in text.splitlines():
        section = _MD_SECTION.match(line)
        if section:
            role = _section_role(section["title"])
            continue
        if role is None:
            continue
        entry = _md_entry(line, role)
        if entry is not None:
            entries.extend(entry)
    if not entries:
        raise RosterFormatError(
            "no people found: expected '## Committers' / '## Reviewers' sections"
            " of '- [Name](https://github.com/login)' lines"
        )
    roles = frozenset(e.role for e in entries)
    return RosterSnapshot(source, as_of, tuple(entries), roles)


def _section_role(title: str) -> str | None:
    lowered = title.casefold()
    for word, role in _SECTION_ROLES:
        if word in lowered:
            return role
    return None


def _md_entry(line: str, role: str) -> list[RosterEntry] | None:
    match = _MD_ENTRY.match(line)
    if match is None:
        return None
    name = (match["linked"] or match["plain"] or "").strip()
    if not name or name.lower().startswith("full list"):
        return None
    logins = []
    profile = _GITHUB_PROFILE.match(match["link"] or "")
    if profile:
        logins.append(profile["login"])
    if match["login"] and match["login"] not in logins:
        logins.append(match["login"])
    entries = [RosterEntry(name=name, role=role, logins=tuple(logins))]
    if role == COMMITTER and _PMC_MARK.search(match["marks"] or ""):
        entries.append(RosterEntry(name=name, role=PMC, logins=tuple(logins)))
    return entries


def parse_roster_csv(text: str, as_of: date, source: str = "csv") -> RosterSnapshot:
    """A CSV with a header row naming at least ``name``."""
    reader = csv.DictReader(io.StringIO(text))
    fields = {(f or "").strip().lower() for f in reader.fieldnames or ()}
    if "name" not in fields:
        raise RosterFormatError(
            "the header row needs a 'name' column (and any of role, joined, left, github, email)"
        )
    entries = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if not row.get("name"):
            continue
        try:
            joined, left = _csv_date(row.get("joined")), _csv_date(row.get("left"))
        except ValueError as error:
            raise RosterFormatError(f"line {number}: {error}") from None
        login = row.get("github") or row.get("login") or ""
        address = row.get("email") or row.get("address") or ""
        entries.append(
            RosterEntry(
                name=row["name"],
                role=(row.get("role") or PMC).lower(),
                joined=joined,
                left=left,
                logins=(login.lstrip("@"),) if login else (),
                addresses=(address.lower(),) if address else (),
            )
        )
    roles = frozenset(e.role for e in entries)
    return RosterSnapshot(source, as_of, tuple(entries), roles)


def _csv_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


# -- changes ------------------------------------------------------------------------------


def changes_from(snapshot: RosterSnapshot, known: Sequence[RosterChange]) -> list[RosterChange]:
    """What ``snapshot`` adds to the ``known`` changes: joins, and leaves of those it omits."""
    active = {(s.member, s.role): s for s in spans(known, source=snapshot.source) if s.left is None}
    listed = {(e.member, e.role) for e in snapshot.entries}
    found: list[RosterChange] = []
    for entry in snapshot.entries:
        key = (entry.member, entry.role)
        if key not in active:
            joined = entry.joined or snapshot.as_of
            found.append(
                RosterChange(entry.member, entry.name, entry.role, "join", joined, snapshot.source)
            )
        if entry.left is not None:
            found.append(
                RosterChange(
                    entry.member, entry.name, entry.role, "leave", entry.left, snapshot.source
                )
            )
    for (member, role), span in active.items():
        if role in snapshot.complete_roles and (member, role) not in listed:
            left = max(snapshot.as_of, span.joined or snapshot.as_of)
            found.append(RosterChange(member, span.name, role, "leave", left, snapshot.source))
    return found


def spans(changes: Iterable[RosterChange], *, source: str | None = None) -> list[Span]:
    """Replay changes (of one source, or all) into the stretches each person held a role.

    Each source's changes are replayed on their own: one source omitting someone
    ends only what that source said, so two rosters that list the same person
    give two spans, and either makes them a member.
    """
    ordered = sorted(
        (c for c in changes if source is None or c.source == source),
        key=lambda c: (c.on, c.change != "leave"),
    )
    open_spans: dict[tuple[str, str, str], Span] = {}
    closed: list[Span] = []
    for change in ordered:
        key = (change.member, change.role, change.source)
        current = open_spans.get(key)
        if change.change == "join" and current is None:
            open_spans[key] = Span(change.member, change.name, change.role, change.on, None)
        elif change.change == "leave" and current is not None:
            closed.append(replace(current, left=change.on))
            del open_spans[key]
    every = [*closed, *open_spans.values()]
    return sorted(every, key=lambda s: (s.name, s.role, s.joined or date.min))


def roster_on(
    changes: Iterable[RosterChange], day: date, roles: frozenset[str] = BINDING_ROLES
) -> list[str]:
    """Who held one of ``roles`` on ``day``, by name."""
    return sorted({s.name for s in spans(changes) if s.role in roles and s.active_on(day)})


def as_datetime(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC)
