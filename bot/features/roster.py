"""Rosters and identities from the store, merged with the configuration.

Imported rosters are stored as dated changes (``quorum roster import``); the roster
a vote is counted with is the one that stood when the vote opened. The config's
``[[roster.members]]`` stay the override: a person named there is taken from
there, whatever an import says. Identities likewise: ``[identities]`` first, then
the links rosters gave (a CONTRIBUTORS.md's GitHub logins, committee-info's ASF
ids) and the hints a person accepted; unconfirmed hints never count.
"""

from __future__ import annotations

import email.parser
import email.utils
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.policy import compat32

from bot.config import Config
from bot.core.hints import Hint, hint_from_mirror, hints_in_result
from bot.core.people import People
from bot.core.roster import (
    BINDING_ROLES,
    RosterSnapshot,
    as_datetime,
    changes_from,
    member_key,
    spans,
)
from bot.core.votes import Member, Roster
from bot.features.people import directory_of
from bot.features.settings import per_config
from bot.model import ThreadKind
from bot.store import Store
from bot.store import sources as source_store

logger = logging.getLogger(__name__)

CONFIRMED = frozenset({"confirmed", "accepted"})
_HEADERS = email.parser.BytesHeaderParser(policy=compat32)
_NOREPLY = "@users.noreply.github.com"


def roster_for(store: Store, config: Config) -> Roster | None:
    """Binding members: the configured ones, then imported ones the config does not name."""
    configured = roster_from(config)
    overridden = {member_key(m.name) for m in config.roster.members}
    imported = [
        Member(span.name, as_datetime(span.joined), as_datetime(span.left))
        for span in spans(source_store.roster_changes(store))
        if span.role in BINDING_ROLES and span.member not in overridden
    ]
    if not imported:
        return configured
    return Roster((*(configured.members if configured else ()), *imported))


def accepted_aliases(store: Store) -> dict[str, list[str]]:
    """Links a roster confirmed or a person accepted: person -> aliases."""
    found: dict[str, list[str]] = {}
    for hint in source_store.hints(store, CONFIRMED):
        found.setdefault(hint.person, []).append(hint.alias)
    return found


def people_for(store: Store, config: Config) -> People:
    """The directory for votes: the config's people and the links accepted in the store."""
    return directory_of(config, accepted_aliases(store))


@dataclass(frozen=True, slots=True)
class RosterImport:
    """What one ``quorum roster import`` did."""

    snapshot: RosterSnapshot
    joined: int
    left: int
    links: int

    def summary(self) -> str:
        members = sum(1 for e in self.snapshot.entries if e.role in BINDING_ROLES)
        roles = sorted({e.role for e in self.snapshot.entries})
        return (
            f"roster {self.snapshot.source} as of {self.snapshot.as_of}:"
            f" {len(self.snapshot.entries)} entr(ies) ({', '.join(roles)}), {members} binding;"
            f" {self.joined} joined, {self.left} left since the last import;"
            f" {self.links} new identity link(s)"
        )


def import_roster(store: Store, snapshot: RosterSnapshot, *, now: datetime) -> RosterImport:
    """Store what the snapshot changes, and the logins and addresses it gives people."""
    changes = changes_from(snapshot, source_store.roster_changes(store))
    with store.db.atomic():
        source_store.record_roster_changes(store, changes, now=now)
        links = source_store.record_hints(store, _roster_links(snapshot), now=now)
    joined = sum(1 for c in changes if c.change == "join")
    return RosterImport(snapshot, joined, len(changes) - joined, links)


def _roster_links(snapshot: RosterSnapshot) -> Iterable[source_store.NewHint]:
    for entry in snapshot.entries:
        for login in entry.logins:
            yield source_store.NewHint(entry.name, login, "login", snapshot.source, (), "confirmed")
        for address in entry.addresses:
            yield source_store.NewHint(
                entry.name, address, "address", snapshot.source, (), "confirmed"
            )


def roster_on(store: Store, config: Config, day: date) -> list[tuple[str, str]]:
    """(name, where from) of every binding member on ``day``."""
    moment = as_datetime(day)
    roster = roster_for(store, config)
    if roster is None or moment is None:
        return []
    configured = {member_key(m.name) for m in config.roster.members}
    return sorted(
        {
            (m.person, "config" if member_key(m.person) in configured else "imported")
            for m in roster.members
            if m.active_at(moment)
        }
    )


def refresh_hints(store: Store, *, now: datetime) -> int:
    """Look for new login <-> name hints in RESULT mails and GitHub mirrors; how many are new."""
    found: list[Hint] = []
    logins: set[str] = set()
    for key, address, raw in source_store.github_posts(store):
        headers = _HEADERS.parsebytes(raw, headersonly=True)
        login = str(headers.get("X-GitHub-Sender") or "").strip()
        if not login and address.endswith(_NOREPLY) and " " not in address:
            login = address.removesuffix(_NOREPLY)
        if not login:
            continue
        logins.add(login)
        display, _ = email.utils.parseaddr(str(headers.get("From") or ""))
        hint = hint_from_mirror(display, login, key)
        if hint is not None:
            found.append(hint)
    for thread in store.threads(ThreadKind.RESULT):
        for post in store.posts_in_thread(thread.key):
            found.extend(hints_in_result(post.text, post.key, logins))
    merged: dict[tuple[str, str], list[str]] = {}
    for hint in found:
        merged.setdefault((hint.name, hint.login), []).append(hint.evidence)
    new = [
        source_store.NewHint(name, login, "login", "mail", tuple(evidence), "unconfirmed")
        for (name, login), evidence in merged.items()
    ]
    return source_store.record_hints(store, new, now=now)


@per_config
def roster_from(config: Config) -> Roster | None:
    if not config.roster.members:
        return None
    return Roster(
        tuple(
            Member(member.name, _start_of(member.joined), _start_of(member.left))
            for member in config.roster.members
        )
    )


def _start_of(day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time.min, tzinfo=UTC)
