"""Everything known about one vote thread, as of a given moment: :func:`report_vote`.

Ties the other modules together: the call's terms, the tally, the rule's
outcome, the state (open, passed, failed, cancelled), the RESULT mail and its
discrepancies, and flags for whatever a person should look at. Also the JSON
shape of a report (:meth:`VoteReport.to_dict`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.people import People
from bot.core.rules import is_automated
from bot.core.threads import parse_subject
from bot.core.votes.call import (
    CallTerms,
    announced_close,
    extended_close,
    parse_call,
    stated_minimum_plus,
)
from bot.core.votes.grammar import ReadingKind
from bot.core.votes.policy import Outcome, Rule, VotePolicy, VoteState, decide
from bot.core.votes.result import (
    AnnouncedResult,
    Discrepancy,
    announces_result,
    compare,
    match_voter,
    naming_author,
    parse_result,
)
from bot.core.votes.tally import (
    Ballot,
    Roster,
    Tally,
    collect_ballots,
    count_ballots,
    directory,
)
from bot.core.votes.trust import BindingClaim, binding_claimed, identity_flags, provenance
from bot.core.votes.values import bucket_of, format_value
from bot.model import Post

# The flag of a vote whose call is not stored (see call_is_missing).
CALL_MISSING = "call-missing"


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str
    detail: str
    voters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VoteReport:
    thread: str
    subject: str
    state: VoteState
    policy: VotePolicy
    opened_at: datetime
    closes_at: datetime
    time_left: timedelta | None
    # Open: whether it would pass if it closed now, None if only its relayed ballots
    # would make it pass (see forecast). Closed: None.
    would_pass_now: bool | None
    tally: Tally
    outcome: Outcome
    announced: AnnouncedResult | None
    agrees_with_announced: bool | None
    discrepancies: tuple[Discrepancy, ...]
    flags: tuple[Flag, ...]
    # The post that announced the result (a [RESULT] thread's, or a reply in the vote
    # thread itself: result_in_thread), and the binding voters it claims.
    result_post: str | None = None
    result_in_thread: bool = False
    binding_claimed_by_result: BindingClaim | None = None

    @property
    def rule(self) -> Rule:
        return self.policy.rule

    @property
    def ballots(self) -> tuple[Ballot, ...]:
        return self.tally.ballots

    @property
    def binding_unknown(self) -> bool:
        return self.outcome.binding_unknown

    @property
    def call_missing(self) -> bool:
        """The call is not stored: when the vote opened is only bounded by its first post."""
        return any(flag.kind == CALL_MISSING for flag in self.flags)

    def to_dict(self) -> dict[str, object]:
        return {
            "thread": self.thread,
            "subject": self.subject,
            "state": str(self.state),
            "rule": str(self.rule),
            "majority_basis": str(self.policy.majority_basis),
            "opened_at": self.opened_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "time_left_seconds": (
                None if self.time_left is None else int(self.time_left.total_seconds())
            ),
            "would_pass_now": self.would_pass_now,
            "binding_unknown": self.binding_unknown,
            "ballots": [_ballot_dict(b) for b in self.ballots],
            "tally": {
                "plus": self.tally.plus,
                "zero": self.tally.zero,
                "minus": self.tally.minus,
                "binding_plus": self.tally.binding_plus,
                "binding_zero": self.tally.binding_zero,
                "binding_minus": self.tally.binding_minus,
                "ambiguous": self.tally.ambiguous,
            },
            "outcome": {
                "passes": self.outcome.passes,
                "reasons": list(self.outcome.reasons),
                "vetoes": list(self.outcome.vetoes),
                "invalid_vetoes": list(self.outcome.invalid_vetoes),
            },
            "announced": None if self.announced is None else _announced_dict(self.announced),
            "result_post": self.result_post,
            "result_in_thread": self.result_in_thread,
            # With no roster this is all that is known about binding: the RESULT's word.
            "binding_claimed_by_result": (
                None
                if self.binding_claimed_by_result is None
                else self.binding_claimed_by_result.to_dict()
            ),
            "provenance": provenance(self.tally),
            "agrees_with_announced": self.agrees_with_announced,
            "discrepancies": [
                {"kind": d.kind, "voters": list(d.voters), "detail": d.detail}
                for d in self.discrepancies
            ],
            "flags": [
                {"kind": f.kind, "detail": f.detail, "voters": list(f.voters)} for f in self.flags
            ],
        }


def report_vote(
    call: Post,
    replies: Iterable[Post],
    *,
    now: datetime,
    policy: VotePolicy | None = None,
    roster: Roster | None = None,
    identities: People | None = None,
    result: Post | None = None,
    cancel: Post | None = None,
) -> VoteReport:
    """Everything known about one vote thread as of ``now``.

    Without a RESULT or CANCEL thread, a reply in the vote thread by whoever
    called it that says the vote is over ("This vote passes.") closes it.
    """
    policy = _as_the_call_asks(policy or VotePolicy(), call)
    people = directory(identities, roster)
    replies = list(replies)
    joined_late = call_is_missing(call)
    terms = parse_call(call.text, call.created_at, min_duration=policy.min_duration)
    terms, extension = _extended(terms, call, replies, people, now)
    result = result if result is not None and result.created_at <= now else None
    cancel = cancel if cancel is not None and cancel.created_at <= now else None
    in_thread = None
    if result is None and cancel is None:
        in_thread = in_thread_announcement(call, replies, people, now)
        if in_thread is not None and announces_result(in_thread.text)[1] is VoteState.CANCELLED:
            cancel = in_thread
        elif in_thread is not None:
            result = in_thread
    # Ballots count until someone closes the vote; ASF practice accepts late
    # ballots until the RESULT mail, so the period end is flagged, not a cut-off.
    until = min([now] + [p.created_at for p in (result, cancel) if p is not None])
    if terms.late_ballots_void and terms.stated_closes_at is not None:
        until = min(until, terms.stated_closes_at)
    skip = (in_thread.key,) if in_thread is not None else ()
    tally = collect_ballots(call, replies, until=until, roster=roster, identities=people, skip=skip)
    announced = (
        naming_author(parse_result(result.text), result.author.name) if result is not None else None
    )
    closed_at = _close_known(terms, result)
    left_out = _late_ballots_left_out(tally, closed_at, announced)
    if left_out and closed_at is not None:
        # Whether a ballot after the close is accepted is the caller's call, and the
        # RESULT is where they make it: one that names the ballots it counts and none of
        # the late ones closed the vote when it said.
        until = min(until, closed_at)
        tally = collect_ballots(
            call, replies, until=until, roster=roster, identities=people, skip=skip
        )
    if policy.count_ambiguous_as_plus_one:
        tally = _accept_ambiguous(tally)
    elif announced is not None:
        tally = _accept_as_announced(tally, announced)
    outcome = decide(tally, policy)
    # What is stored is counted, whole or not: a RESULT counting ballots the store lacks
    # disagrees with it, and the call-missing flag says why it may (FORMAT.md's
    # labellers tally a partial mirror's ballots the same way).
    unverified_would_pass = not outcome.passes and _passes_if_relays_counted(tally, policy)
    state = _state(outcome, terms, now, result, cancel, unverified_would_pass)
    discrepancies = tuple(compare(tally, announced)) if announced is not None else ()
    closer = result or cancel
    return VoteReport(
        thread=call.thread_key,
        subject=call.subject,
        state=state,
        policy=policy,
        opened_at=terms.opened_at,
        closes_at=terms.closes_at,
        time_left=terms.closes_at - now if state is VoteState.OPEN else None,
        would_pass_now=_forecast(state, outcome, unverified_would_pass),
        tally=tally,
        outcome=outcome,
        announced=announced,
        agrees_with_announced=_agrees(
            state, announced, discrepancies, cancelled=cancel is not None
        ),
        discrepancies=discrepancies,
        flags=tuple(
            _flags(
                tally,
                outcome,
                terms,
                policy,
                result,
                joined_late=joined_late,
                unverified_would_pass=unverified_would_pass,
            )
        )
        + left_out
        + extension,
        result_post=closer.key if closer is not None else None,
        result_in_thread=in_thread is not None,
        binding_claimed_by_result=(
            binding_claimed(tally, announced, result.key) if result is not None else None
        ),
    )


# The rules that count approving ballots against a minimum of their own.
_COUNTS_APPROVALS = frozenset({Rule.MAJORITY_APPROVAL, Rule.CONSENSUS_APPROVAL})


def _as_the_call_asks(policy: VotePolicy, call: Post) -> VotePolicy:
    """The policy, with the call's own minimum of approving ballots where it asks for
    more ("needs five of the seven of us"). Only more: a call cannot lower the bar the
    project's rules set, so a careless template never passes a vote on too few. (A lazy
    consensus passes on silence: a minimum of approvals is no part of it.)"""
    stated = stated_minimum_plus(call.text)
    if stated is None or policy.rule is Rule.LAZY_CONSENSUS:
        return policy
    if policy.rule in _COUNTS_APPROVALS:
        return (
            replace(policy, min_binding_plus=stated) if stated > policy.min_binding_plus else policy
        )
    return replace(policy, call_min_plus=stated)


def _extended(
    terms: CallTerms, call: Post, replies: Sequence[Post], people: People, now: datetime
) -> tuple[CallTerms, tuple[Flag, ...]]:
    """The vote's terms with the latest close its caller moved it to in the thread ("I'll
    keep the vote open until Friday", "Extending: the vote now closes on ..."), and a
    flag saying so; as called when nobody did. Only the caller's own verified mail moves
    the close: anyone else's "let's extend to Friday" is a suggestion."""
    if call_is_missing(call):
        return terms, ()
    latest: tuple[datetime, str] | None = None
    for post in _callers_posts(call, replies, people, now):
        moved, sentence = extended_close(post.text, post.created_at)
        if moved is not None and moved > terms.closes_at:
            latest = (moved, sentence)
    if latest is None:
        return terms, ()
    moved, sentence = latest
    extended = replace(
        terms,
        closes_at=moved,
        stated_closes_at=moved,
        stated_sentence=sentence,
        stated_is_minimum=False,
    )
    detail = f"the caller moved the close to {moved.isoformat()}: {sentence!r}"
    return extended, (Flag("extended", detail),)


def _close_known(terms: CallTerms, result: Post | None) -> datetime | None:
    """When the vote closed, as its RESULT says ("The vote closed yesterday, Friday 2
    January 2026 at 17:00 UTC") or else as its call fixed it; None for a period the call
    gave as a minimum ("at least three business days"), which a vote may outrun."""
    said = announced_close(result.text, terms.opened_at) if result is not None else None
    if said is not None and said >= terms.opened_at:
        return said
    return None if terms.stated_is_minimum else terms.closes_at


def _late_ballots_left_out(
    tally: Tally, closed_at: datetime | None, announced: AnnouncedResult | None
) -> tuple[Flag, ...]:
    """A flag naming the ballots cast after the close that a RESULT naming the ballots it
    counts leaves out, every one of them; none when it counts any of them (then the vote
    closed later, and whoever it leaves out is a discrepancy)."""
    if announced is None or closed_at is None:
        return ()
    late = [b for b in tally.ballots if b.counted and b.cast.at > closed_at]
    names = [name for entry in announced.entries for name in entry.names]
    names.extend(announced.binding_names)
    if not late or not names:
        return ()
    named = {b.voter for name in names if (b := match_voter(name, tally.ballots)) is not None}
    if any(ballot.voter in named for ballot in late):
        return ()
    detail = "cast after the stated close; the RESULT does not count it"
    return (Flag("late-ballot-not-counted", detail, tuple(b.voter for b in late)),)


def in_thread_announcement(
    call: Post, replies: Iterable[Post], people: People, now: datetime
) -> Post | None:
    """The first reply that announces the vote is over, by the person who called it.

    When the call is missing (a bot that joined late holds only replies), anyone's
    announcement counts: the caller cannot be told apart.
    """
    for post in _callers_posts(call, replies, people, now):
        if announces_result(post.text)[0]:
            return post
    return None


def _callers_posts(
    call: Post, replies: Iterable[Post], people: People, now: datetime
) -> Iterator[Post]:
    """The replies by whoever called the vote, verified, oldest first, up to ``now``:
    only they speak for the vote (anyone, when the call itself is not stored)."""
    root_missing = call_is_missing(call)
    for post in sorted(replies, key=lambda p: (p.created_at, p.key)):
        if post.key == call.key or post.created_at > now or is_automated(post):
            continue
        if not root_missing and not people.is_same_person(post.author, call.author):
            continue
        if people.author_of(post).verified:
            yield post


def call_is_missing(call: Post) -> bool:
    """Whether the thread's first stored post answers something: the call itself is not
    stored (an archive that starts mid-vote, a bot that joined late)."""
    return (
        call.in_reply_to is not None
        or bool(call.references)
        or parse_subject(call.subject).is_reply
    )


def _accept_ambiguous(tally: Tally, voters: Iterable[str] | None = None) -> Tally:
    """Count ambiguous ballots as +1 (only those of ``voters`` when given), keeping them
    marked ambiguous in the report."""
    chosen = None if voters is None else set(voters)
    ballots = [
        replace(ballot, accepted_as=1.0)
        if ballot.ambiguous and (chosen is None or ballot.voter in chosen)
        else ballot
        for ballot in tally.ballots
    ]
    return count_ballots(
        ballots, binding_known=tally.binding_known, unmatched=tally.unmatched_identities
    )


def _accept_as_announced(tally: Tally, announced: AnnouncedResult) -> Tally:
    """Count as +1 the ambiguous ballots the RESULT names as +1, keeping them marked
    ambiguous (the report still says the RESULT counted them).

    An ambiguous ballot is the voter's own approving mail with no value in it ("Yes.",
    "Checked signatures, built from source, no problems."): the RESULT only says how the
    caller read it, as a chair would. It never adds a ballot the thread lacks, nor turns
    anything into a -1 or a 0.
    """
    named = {
        ballot.voter
        for entry in announced.entries
        if bucket_of(entry.value) == 1
        for name in entry.names
        if (ballot := match_voter(name, tally.ballots)) is not None and ballot.ambiguous
    }
    return _accept_ambiguous(tally, named) if named else tally


def _state(
    outcome: Outcome,
    terms: CallTerms,
    now: datetime,
    result: Post | None,
    cancel: Post | None,
    unverified_would_pass: bool = False,
) -> VoteState:
    if cancel is not None:
        return VoteState.CANCELLED
    if result is None and now < terms.closes_at:
        return VoteState.OPEN
    if outcome.passes:
        return VoteState.PASSED
    return VoteState.UNVERIFIED if unverified_would_pass else VoteState.FAILED


def _forecast(state: VoteState, outcome: Outcome, unverified_would_pass: bool) -> bool | None:
    """Whether an open vote would pass if it closed now; None if it is not open, or if
    it would pass only by ballots nothing verifies (it would close unverified)."""
    if state is not VoteState.OPEN or unverified_would_pass:
        return None
    return outcome.passes


def _passes_if_relays_counted(tally: Tally, policy: VotePolicy) -> bool:
    """Whether the rule would pass the vote if the ballots whose authors nothing verifies
    counted as any other voter's. Only without a roster: with one, a relayed name is
    never a member's (Trust model)."""
    if tally.binding_known or not any(b.unverified for b in tally.ballots):
        return False
    ballots = [replace(b, binding=None) if b.unverified else b for b in tally.ballots]
    recount = count_ballots(ballots, binding_known=False, unmatched=tally.unmatched_identities)
    return decide(recount, policy).passes


def _agrees(
    state: VoteState,
    announced: AnnouncedResult | None,
    discrepancies: Sequence[Discrepancy],
    *,
    cancelled: bool = False,
) -> bool | None:
    if cancelled and announced is None:
        # A [CANCEL] (or "I'm cancelling this vote") announces that the vote ended without
        # an outcome, and the report reads it so: it states no tally to disagree with.
        return state is VoteState.CANCELLED
    if announced is None or (announced.outcome is None and not announced.entries):
        return None  # "closing the vote" alone announces nothing to agree with
    if state is VoteState.UNVERIFIED:
        return None  # what the relayed ballots decided, Quorum cannot tell
    if announced.outcome is not None and announced.outcome is not state:
        return False
    return not any(not d.soft for d in discrepancies)


def _flags(
    tally: Tally,
    outcome: Outcome,
    terms: CallTerms,
    policy: VotePolicy,
    result: Post | None,
    *,
    joined_late: bool = False,
    unverified_would_pass: bool = False,
) -> list[Flag]:
    flags: list[Flag] = []
    if unverified_would_pass:
        relayed = tuple(b.voter for b in tally.ballots if b.unverified and b.counted)
        flags.append(
            Flag(
                "outcome-unverified",
                "short of binding votes only because these ballots came through a relay that"
                " vouches for nobody; it would pass if they counted. Connect the forum's API"
                " ([discourse]) or map the voters in [identities] to verify them",
                relayed,
            )
        )
    if joined_late:
        flags.append(
            Flag(
                CALL_MISSING,
                "the call is not stored (the first stored post is a reply): the count covers"
                " the stored replies only, so a RESULT counting earlier ballots disagrees with"
                " it, and when the vote opened and closes is not known",
            )
        )
    if result is not None and result.created_at < terms.closes_at and not joined_late:
        hours = (result.created_at - terms.opened_at).total_seconds() / 3600
        needed = (terms.closes_at - terms.opened_at).total_seconds() / 3600
        flags.append(
            Flag("early-result", f"RESULT after {hours:.1f} hours; the vote ran {needed:g} hours")
        )
    if terms.stated_closes_at is not None and terms.stated_closes_at < terms.minimum_closes_at:
        flags.append(
            Flag(
                "short-period", f"the call states a close before the {policy.min_duration} minimum"
            )
        )
    if terms.stated_closes_at is None:
        flags.append(Flag("period-not-stated", "the call states no period; the minimum applies"))
    if outcome.binding_unknown:
        flags.append(
            Flag(
                "binding-unknown",
                "no roster configured: every ballot treated as potentially binding",
            )
        )
    if outcome.invalid_vetoes:
        flags.append(
            Flag(
                "invalid-veto",
                "-1 without a stated reason; not counted as a veto",
                outcome.invalid_vetoes,
            )
        )
    if tally.unmatched_identities:
        flags.append(
            Flag("unmatched-identity", "not in the identity map", tally.unmatched_identities)
        )
    flags.extend(_ballot_flags(tally, terms))
    flags.extend(Flag(f.kind, f.detail, f.voters) for f in identity_flags(tally))
    return flags


def _ballot_flags(tally: Tally, terms: CallTerms) -> list[Flag]:
    flags: list[Flag] = []
    for ballot in tally.ballots:
        reading = ballot.cast.reading
        if reading.ambiguous:
            flags.append(
                Flag("ambiguous-ballot", f"{reading.reason}: {reading.sentence!r}", (ballot.voter,))
            )
        if reading.self_declared_binding and ballot.binding is False and not ballot.unverified:
            detail = "declared binding but not on the roster when the vote opened"
            flags.append(Flag("binding-claim-ignored", detail, (ballot.voter,)))
        if ballot.counted and not terms.stated_is_minimum and ballot.cast.at > terms.closes_at:
            flags.append(Flag("late-ballot", "cast after the stated close", (ballot.voter,)))
    return flags


def _ballot_dict(ballot: Ballot) -> dict[str, object]:
    author = ballot.cast.author
    return {
        "voter": ballot.voter,
        "identity": author.to_dict() if author is not None else None,
        "value": ballot.value,
        "vote": None if ballot.value is None else format_value(ballot.value),
        "binding": ballot.binding,
        "self_declared_binding": ballot.cast.reading.self_declared_binding,
        "counted": ballot.counted,
        "ambiguous": ballot.ambiguous,
        # What an ambiguous ballot is counted as (the project's policy, or the RESULT's
        # reading of it); null when it is not counted.
        "counted_as": ballot.counted_as,
        "withdrawn": ballot.cast.reading.kind is ReadingKind.WITHDRAWN,
        "reason": ballot.cast.reading.reason,
        "post": ballot.cast.post,
        "url": ballot.cast.url,
        "at": ballot.cast.at.isoformat(),
        "sentence": ballot.cast.reading.sentence,
        "history": [
            {
                "post": c.post,
                "at": c.at.isoformat(),
                "value": c.reading.value,
                "kind": str(c.reading.kind),
                "sentence": c.reading.sentence,
            }
            for c in ballot.history
        ],
    }


def _announced_dict(announced: AnnouncedResult) -> dict[str, object]:
    return {
        "outcome": None if announced.outcome is None else str(announced.outcome),
        "quorum_reached": announced.quorum_reached,
        "binding_names": list(announced.binding_names),
        "entries": [
            {
                "value": e.value,
                "vote": format_value(e.value),
                "count": e.count,
                "binding_count": e.binding_count,
                "names": list(e.names),
                "binding_names": list(e.binding_names),
            }
            for e in announced.entries
        ],
    }
