"""From a thread's posts to counted ballots: who voted, with what, binding or not.

Each post is read with :func:`parse_ballot` and attributed to a person by
:class:`~bot.core.people.People` (by address and verified handle, never by a
display name alone); a voter's latest explicit post stands, the rest is kept
as history. Whether a ballot binds is taken from the :class:`Roster` as of the
moment the vote opened, never from what the voter says, and never for an
author whose identity cannot be verified.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.github import approves_pull_request
from bot.core.people import Author, People, mirror_login, name_key
from bot.core.rules import is_automated
from bot.core.votes.call import asks_for_words
from bot.core.votes.grammar import (
    BallotReading,
    ReadingKind,
    marked_template,
    parse_ballot,
    parse_worded_ballot,
)
from bot.core.votes.prose import prose_lines
from bot.core.votes.values import bucket_of, format_value
from bot.model import Person, Post

# Readings that do not replace an earlier explicit ballot of the same voter.
_NOT_FIRM = frozenset({ReadingKind.VAGUE, ReadingKind.CONDITIONAL})


@dataclass(frozen=True, slots=True)
class Member:
    """A roster entry; ``left`` is exclusive, so someone who left at the opening no longer binds."""

    person: str
    joined: datetime | None = None
    left: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        if self.joined is not None and at < self.joined:
            return False
        return self.left is None or at < self.left


@dataclass(frozen=True, slots=True)
class Roster:
    """Who casts binding votes (a PMC, module owners ...)."""

    members: tuple[Member, ...]

    def is_binding(self, person: str, at: datetime) -> bool:
        key = name_key(person)
        return any(name_key(m.person) == key and m.active_at(at) for m in self.members)


@dataclass(frozen=True, slots=True)
class Cast:
    """One post's reading, attributed to a voter."""

    post: str
    url: str | None
    at: datetime
    identity: str
    reading: BallotReading
    # Who cast it, as far as the bot can tell (how it knows; unverified or not).
    author: Author | None = None


@dataclass(frozen=True, slots=True)
class Ballot:
    """A voter's standing ballot plus the casts it superseded (oldest first)."""

    voter: str
    binding: bool | None
    cast: Cast
    history: tuple[Cast, ...] = ()
    aliases: tuple[str, ...] = ()
    # What an ambiguous ballot is counted as, when the project's policy says to
    # count such ballots the way a release manager would; it stays ambiguous.
    accepted_as: float | None = None

    @property
    def value(self) -> float | None:
        return self.cast.reading.value

    @property
    def ambiguous(self) -> bool:
        return self.cast.reading.ambiguous

    @property
    def counted(self) -> bool:
        """A ballot with a value, or an ambiguous one counted as something (accepted_as)."""
        return self.cast.reading.is_vote or (self.ambiguous and self.accepted_as is not None)

    @property
    def bucket(self) -> int | None:
        """1, 0 or -1 for a counted ballot; None for an ambiguous one nobody accepted."""
        value = self.cast.reading.value
        if self.counted and value is not None:
            return bucket_of(value)
        if self.ambiguous and self.accepted_as is not None:
            return bucket_of(self.accepted_as)
        return None

    @property
    def counted_as(self) -> str | None:
        """What an ambiguous ballot is counted as ("+1"); None when it is not counted."""
        return None if self.accepted_as is None else format_value(self.accepted_as)

    @property
    def label(self) -> str:
        if self.cast.reading.kind is ReadingKind.WITHDRAWN:
            return "withdrawn"
        value = self.cast.reading.value
        return "?" if value is None else format_value(value)

    @property
    def author(self) -> Author | None:
        return self.cast.author

    @property
    def unverified(self) -> str:
        """Why the voter's identity cannot be verified; "" when it can."""
        return self.cast.author.problem if self.cast.author is not None else ""


@dataclass(frozen=True, slots=True)
class Tally:
    """Counted ballots. Binding counts are ``None`` when no roster is configured."""

    ballots: tuple[Ballot, ...]
    plus: int
    zero: int
    minus: int
    binding_plus: int | None
    binding_zero: int | None
    binding_minus: int | None
    ambiguous: int
    unmatched_identities: tuple[str, ...] = ()

    @property
    def binding_known(self) -> bool:
        return self.binding_plus is not None


_RESULT_SUBJECT_RE = re.compile(r"\[\s*(?:RESULT|CANCEL(?:L?ED)?)\s*\]", re.IGNORECASE)


def directory(identities: People | None, roster: Roster | None = None) -> People:
    """The people a tally resolves authors with; roster members are people the config names."""
    known = tuple(member.person for member in roster.members) if roster is not None else ()
    if identities is not None:
        return identities
    return People(known=known)


def resolve_voter(author: Person, identities: People | None) -> tuple[str, bool]:
    """The person behind an author identity, and whether the directory knew them."""
    if identities is None:
        return author.display, True
    person = directory(identities).person_of(author)
    return (person, True) if person is not None else (author.display, False)


def _ballot_posts(
    replies: Iterable[Post], call: Post, until: datetime, skip: frozenset[str]
) -> list[Post]:
    # RESULT/CANCEL mails announce, they do not vote; re-delivered posts count once.
    seen: dict[str, Post] = {}
    for post in replies:
        if post.key == call.key or post.key in skip or is_automated(post):
            continue
        if post.created_at > until or _RESULT_SUBJECT_RE.search(post.subject):
            continue
        seen.setdefault(post.key, post)
    return sorted(seen.values(), key=lambda p: (p.created_at, p.key))


def collect_ballots(
    call: Post,
    replies: Iterable[Post],
    *,
    until: datetime,
    roster: Roster | None = None,
    identities: People | None = None,
    skip: Iterable[str] = (),
) -> Tally:
    """Every voter's standing ballot, binding as of the call, counted.

    ``skip`` are keys of posts that are not ballots (an announcement in the thread).
    """
    people = directory(identities, roster)
    check_unmatched = bool(people.identities)
    casts: dict[str, list[tuple[str, Cast]]] = {}
    unmatched: set[str] = set()
    posts = _ballot_posts(replies, call, until, frozenset(skip))
    by_id = {p.message_id: p for p in (call, *posts) if p.message_id}
    worded = asks_for_words(call.text)
    # The call's author votes by the call only with an explicit ballot in it.
    call_reading = _reading(call, call, by_id)
    if worded and not call_reading.is_vote:
        call_reading = _callers_own_words(call.text)
    sources = [(call, call_reading)] if call_reading.is_vote else []
    sources += [(post, _reading(post, call, by_id, worded=worded)) for post in posts]
    for post, reading in sources:
        if reading.kind is ReadingKind.NONE:
            continue
        author = people.author_of(post)
        if author.is_bot:
            continue  # the bot's own drafts and notes are never ballots
        if check_unmatched and author.verified and not author.configured:
            unmatched.add(author.label)
        cast = Cast(post.key, post.url, post.created_at, author.label, reading, author)
        casts.setdefault(author.key, []).append((author.name, cast))
    ballots = tuple(
        _standing_ballot(entries, roster, call.created_at) for entries in casts.values()
    )
    return count_ballots(
        ballots, binding_known=roster is not None, unmatched=tuple(sorted(unmatched))
    )


def _callers_own_words(text: str) -> BallotReading:
    """The caller's answer in their own call, said of themselves ("I'm voting yes
    myself."): a call's other sentences ("Are abstentions counted? No.") answer no vote."""
    reading = parse_worded_ballot(text)
    if reading.is_vote and _FIRST_PERSON_RE.match(reading.sentence):
        return reading
    return BallotReading(ReadingKind.NONE)


# "I vote yes", "I'm voting yes myself": the writer speaking of their own ballot.
_FIRST_PERSON_RE = re.compile(r"^\W*i\b", re.IGNORECASE)


def _reading(
    post: Post, call: Post, by_id: Mapping[str, Post], *, worded: bool = False
) -> BallotReading:
    """The post's own text read as a ballot; failing that, the box it checked in the
    ballot template it quoted, unless the post it answers had that box checked already.
    ``worded``: the call asks for yes / no / abstain, and a reply answering in those words
    without a value of its own casts them."""
    reading = parse_ballot(post.text)
    if worded and reading.value is None and not reading.is_vote:
        parent = by_id.get(post.in_reply_to or "")
        # A reply to the call answers it; so does one to another voter's mail that asked
        # nothing ("Yes, with the understanding that ..." under Aarav's "No."), where
        # "Yes, ..." has no question of theirs to answer.
        answers_call = post.in_reply_to is not None and (
            post.in_reply_to == call.message_id or (parent is not None and "?" not in parent.text)
        )
        in_words = parse_worded_ballot(post.text, answers_call=answers_call)
        if in_words.kind is not ReadingKind.NONE:
            return in_words
    if reading.value is None and approves_pull_request(post.text, mirror_login(post)):
        # A vote held on a pull request: its reviewer's approval is their +1.
        return BallotReading(ReadingKind.VOTE, value=1.0, sentence=post.text.splitlines()[0])
    own_box = _own_box_ticked(post)
    if reading.value is None and own_box is not None:
        return BallotReading(ReadingKind.VOTE, value=1.0, sentence=own_box)
    if (
        reading.is_vote
        and reading.self_declared_binding is None
        and not _MY_VOTE_RE.search(reading.sentence)
        and _answers_quoted_question(post, call)
    ):
        # "> Should we move the docs build to the new CI runner?" then "+1, the old runner
        # fails": agreement with the question it quotes, in a reply to someone else's
        # mail. Shown to a person as unsure, never counted for the vote.
        return replace(
            reading,
            kind=ReadingKind.VAGUE,
            value=None,
            reason="a +1 to the question it quotes, not to the vote",
        )
    if reading.kind is not ReadingKind.NONE:
        return reading
    mark = marked_template(post.quoted)
    if mark is None:
        return reading
    parent = by_id.get(post.in_reply_to or "")
    if parent is not None and any(mark[1] in block for block in (parent.text, *parent.quoted)):
        return reading  # a quote of someone else's mark
    value, line = mark
    prose = " ".join(line for line in prose_lines(post.text) if line)
    return BallotReading(ReadingKind.VOTE, value=value, sentence=line, justification=prose)


# A team's checklist, one box per member ("- [x] @alice" / "- [ ] @bob"), as a call on
# GitHub or rfcbot lists them: a member ticking their own box in their own comment (or
# in the call they wrote) approves.
_TICKED_LOGIN_RE = re.compile(r"^\s*[-*]\s+\[[xX✓✔]\]\s+@(?P<login>[\w-]+)\s*$", re.MULTILINE)


def _own_box_ticked(post: Post) -> str | None:
    """The line where the post's author ticks the checklist box of their own login."""
    login = mirror_login(post).casefold()
    for match in _TICKED_LOGIN_RE.finditer(post.text):
        if match["login"].casefold() == login:
            return match.group(0).strip()
    return None


# "And I forgot my own vote: +1 (binding)." is the writer's ballot, under any quote.
_MY_VOTE_RE = re.compile(r"\bmy\s+(?:own\s+)?(?:vote|ballot)\b", re.IGNORECASE)


def _answers_quoted_question(post: Post, call: Post) -> bool:
    """A reply to a reply (not the call) that opens with a quoted question from neither the
    call nor a ballot, so its value answers that question."""
    if post is call or not post.quoted or not post.in_reply_to:
        return False
    if post.in_reply_to == call.message_id:
        return False
    if post.quote_at and post.quote_at[0] != 0:
        return False  # new text comes first: the value is the writer's own
    quoted = " ".join(post.quoted[0].split())
    if not quoted.endswith("?") or parse_ballot(post.quoted[0]).kind is not ReadingKind.NONE:
        return False
    return quoted not in " ".join(call.text.split())


def _standing_ballot(
    entries: Sequence[tuple[str, Cast]], roster: Roster | None, opened_at: datetime
) -> Ballot:
    """The latest firm cast stands: vague wording, or a value made conditional ("I'd
    change my -1 to +1 if the NOTICE were fixed"), never overrides an explicit ballot."""
    ordered = [cast for _, cast in entries]
    firm = [c for c in ordered if c.reading.kind not in _NOT_FIRM]
    standing = firm[-1] if firm else ordered[-1]
    voter = entries[0][0]
    binding = None if roster is None else roster.is_binding(voter, opened_at)
    if standing.author is not None and standing.author.problem:
        binding = False  # an identity the bot cannot verify never binds
    aliases = tuple(dict.fromkeys(c.identity for c in ordered))
    history = tuple(c for c in ordered if c is not standing)
    return Ballot(voter, binding, standing, history, aliases)


def count_ballots(
    ballots: Sequence[Ballot], *, binding_known: bool, unmatched: tuple[str, ...] = ()
) -> Tally:
    buckets = [b.bucket for b in ballots]

    def binding_count(bucket: int) -> int | None:
        if not binding_known:
            return None
        return sum(1 for b in ballots if b.bucket == bucket and b.binding)

    return Tally(
        ballots=tuple(ballots),
        plus=buckets.count(1),
        zero=buckets.count(0),
        minus=buckets.count(-1),
        binding_plus=binding_count(1),
        binding_zero=binding_count(0),
        binding_minus=binding_count(-1),
        ambiguous=sum(1 for b in ballots if b.ambiguous),
        unmatched_identities=unmatched,
    )
