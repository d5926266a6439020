"""Everything known about one vote thread, as of a given moment: :func:`report_vote`.

Ties the other modules together: the call's terms, the tally, the rule's
outcome, the state (open, passed, failed, cancelled), the RESULT mail and its
discrepancies, and flags for whatever a person should look at. Also the JSON
shape of a report (:meth:`VoteReport.to_dict`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.votes.call import CallTerms, parse_call
from bot.core.votes.result import AnnouncedResult, Discrepancy, compare, parse_result
from bot.core.votes.rules import Outcome, Rule, VotePolicy, VoteState, decide
from bot.core.votes.tally import (
    Ballot,
    IdentityMap,
    Roster,
    Tally,
    collect_ballots,
    count_ballots,
)
from bot.core.votes.values import format_value
from bot.model import Post


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
    would_pass_now: bool | None
    tally: Tally
    outcome: Outcome
    announced: AnnouncedResult | None
    agrees_with_announced: bool | None
    discrepancies: tuple[Discrepancy, ...]
    flags: tuple[Flag, ...]

    @property
    def rule(self) -> Rule:
        return self.policy.rule

    @property
    def ballots(self) -> tuple[Ballot, ...]:
        return self.tally.ballots

    @property
    def binding_unknown(self) -> bool:
        return self.outcome.binding_unknown

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
    identities: IdentityMap | None = None,
    result: Post | None = None,
    cancel: Post | None = None,
) -> VoteReport:
    """Everything known about one vote thread as of ``now``."""
    policy = policy or VotePolicy()
    terms = parse_call(call.text, call.created_at, min_duration=policy.min_duration)
    result = result if result is not None and result.created_at <= now else None
    cancel = cancel if cancel is not None and cancel.created_at <= now else None
    # Ballots count until someone closes the vote; ASF practice accepts late
    # ballots until the RESULT mail, so the period end is flagged, not a cut-off.
    until = min([now] + [p.created_at for p in (result, cancel) if p is not None])
    tally = collect_ballots(call, replies, until=until, roster=roster, identities=identities)
    if policy.count_ambiguous_as_plus_one:
        tally = _accept_ambiguous(tally)
    outcome = decide(tally, policy)
    state = _state(outcome, terms, now, result, cancel)
    announced = parse_result(result.text) if result is not None else None
    discrepancies = tuple(compare(tally, announced)) if announced is not None else ()
    return VoteReport(
        thread=call.thread_key,
        subject=call.subject,
        state=state,
        policy=policy,
        opened_at=terms.opened_at,
        closes_at=terms.closes_at,
        time_left=terms.closes_at - now if state is VoteState.OPEN else None,
        would_pass_now=outcome.passes if state is VoteState.OPEN else None,
        tally=tally,
        outcome=outcome,
        announced=announced,
        agrees_with_announced=_agrees(state, announced, discrepancies),
        discrepancies=discrepancies,
        flags=tuple(_flags(tally, outcome, terms, policy, result)),
    )


def _accept_ambiguous(tally: Tally) -> Tally:
    """Count ambiguous ballots as +1, keeping them marked ambiguous in the report."""
    ballots = [
        replace(ballot, accepted_as=1.0) if ballot.ambiguous else ballot for ballot in tally.ballots
    ]
    return count_ballots(
        ballots, binding_known=tally.binding_known, unmatched=tally.unmatched_identities
    )


def _state(
    outcome: Outcome, terms: CallTerms, now: datetime, result: Post | None, cancel: Post | None
) -> VoteState:
    if cancel is not None:
        return VoteState.CANCELLED
    if result is None and now < terms.closes_at:
        return VoteState.OPEN
    return VoteState.PASSED if outcome.passes else VoteState.FAILED


def _agrees(
    state: VoteState, announced: AnnouncedResult | None, discrepancies: Sequence[Discrepancy]
) -> bool | None:
    if announced is None:
        return None
    if announced.outcome is not None and announced.outcome is not state:
        return False
    return not any(not d.soft for d in discrepancies)


def _flags(
    tally: Tally, outcome: Outcome, terms: CallTerms, policy: VotePolicy, result: Post | None
) -> list[Flag]:
    flags: list[Flag] = []
    if result is not None and result.created_at < terms.closes_at:
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
    return flags


def _ballot_flags(tally: Tally, terms: CallTerms) -> list[Flag]:
    flags: list[Flag] = []
    for ballot in tally.ballots:
        reading = ballot.cast.reading
        if reading.ambiguous:
            flags.append(
                Flag("ambiguous-ballot", f"{reading.reason}: {reading.sentence!r}", (ballot.voter,))
            )
        if reading.self_declared_binding and ballot.binding is False:
            detail = "declared binding but not on the roster when the vote opened"
            flags.append(Flag("binding-claim-ignored", detail, (ballot.voter,)))
        if ballot.counted and not terms.stated_is_minimum and ballot.cast.at > terms.closes_at:
            flags.append(Flag("late-ballot", "cast after the stated close", (ballot.voter,)))
    return flags


def _ballot_dict(ballot: Ballot) -> dict[str, object]:
    return {
        "voter": ballot.voter,
        "value": ballot.value,
        "vote": None if ballot.value is None else format_value(ballot.value),
        "binding": ballot.binding,
        "self_declared_binding": ballot.cast.reading.self_declared_binding,
        "counted": ballot.counted,
        "ambiguous": ballot.ambiguous,
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
