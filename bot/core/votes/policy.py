"""Deciding a tally by a project's rule: majority approval, consensus, lazy consensus ...

One function a :class:`Rule`; each returns an :class:`Outcome` with the reasons
spelled out, so a report can say *why* a vote would pass or fail. Without a
roster every ballot is treated as potentially binding, and the outcome says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum

from bot.core.votes.grammar import word_count
from bot.core.votes.tally import Ballot, Tally


class Rule(StrEnum):
    SIMPLE_MAJORITY = "simple-majority"
    MAJORITY_APPROVAL = "majority-approval"
    CONSENSUS_APPROVAL = "consensus-approval"
    LAZY_TWO_THIRDS = "lazy-two-thirds"
    LAZY_CONSENSUS = "lazy-consensus"


class MajorityBasis(StrEnum):
    """Which votes "more + than -" compares; policies differ, so it is a setting."""

    BINDING = "binding"
    ALL = "all"


class VoteState(StrEnum):
    """Where a vote stands: open, or how it ended (also what a RESULT mail announces)."""

    OPEN = "open"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Closed, short of binding votes only because ballots came through a relay that
    # vouches for nobody (a forum's mailing-list mode): it would pass if they counted, so
    # Quorum cannot say it failed (see Trust model).
    UNVERIFIED = "unverified"


def forecast(would_pass_now: bool | None) -> str:
    """What an open vote would do if it closed now, after "would": a report's
    ``would_pass_now`` is None while its outcome hangs on ballots that came through a
    relay that vouches for nobody (the open counterpart of UNVERIFIED)."""
    if would_pass_now is None:
        return "pass only if its relayed ballots count"
    return "pass" if would_pass_now else "fail"


@dataclass(frozen=True, slots=True)
class VotePolicy:
    """The rule a vote is decided by, and the numbers that rule uses."""

    rule: Rule = Rule.MAJORITY_APPROVAL
    min_binding_plus: int = 3
    min_binding_votes: int = 3
    majority_basis: MajorityBasis = MajorityBasis.BINDING
    min_duration: timedelta = timedelta(hours=72)
    veto_needs_reason: bool = True
    # Count ballots with no explicit value ("works for me") as +1, as many release
    # managers do. They are still reported as ambiguous either way.
    count_ambiguous_as_plus_one: bool = False
    # The approving ballots the call itself asks for, under a rule that counts none of
    # its own ("a two-thirds majority ... so the proposal needs 5 votes in favour"); 0:
    # the call asks for none beyond the rule.
    call_min_plus: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the rule says if the vote closed now."""

    passes: bool
    reasons: tuple[str, ...]
    binding_unknown: bool
    vetoes: tuple[str, ...] = ()
    invalid_vetoes: tuple[str, ...] = ()


def _states_reason(ballot: Ballot) -> bool:
    return word_count(ballot.cast.reading.justification) >= 3


@dataclass(frozen=True, slots=True)
class _Counts:
    """What every rule looks at, computed once."""

    plus: tuple[Ballot, ...]  # binding +1 (potentially binding without a roster)
    minus: tuple[Ballot, ...]  # binding -1
    basis_plus: int  # the "more + than -" sides, per MajorityBasis
    basis_minus: int
    basis: str
    word: str
    unknown: bool


def decide(tally: Tally, policy: VotePolicy) -> Outcome:
    """What the rule says if the vote closed now (the caller decides whether it has)."""
    unknown = not tally.binding_known
    # Without a roster every ballot is potentially binding (the outcome says so), except
    # one whose author could not be verified: that is known not to bind; and one its
    # voter calls non-binding: a claim that takes weight away needs no proof. (An
    # unmarked ballot stays potentially binding even where others mark theirs: in the
    # TVM votes PMC members vote unmarked beside marked ones.)
    binding = [b for b in tally.ballots if b.counted and binds(b, unknown=unknown)]
    plus = tuple(b for b in binding if b.bucket == 1)
    minus = tuple(b for b in binding if b.bucket == -1)
    by_binding = policy.majority_basis is MajorityBasis.BINDING
    counts = _Counts(
        plus=plus,
        minus=minus,
        basis_plus=len(plus) if by_binding else tally.plus,
        basis_minus=len(minus) if by_binding else tally.minus,
        basis="binding " if by_binding else "",
        word="potentially binding" if unknown else "binding",
        unknown=unknown,
    )
    outcome = _RULES[policy.rule](counts, policy)
    if not policy.call_min_plus:
        return outcome
    enough = len(plus) >= policy.call_min_plus
    asked = f"{len(plus)} {counts.word} +1 (the call asks for {policy.call_min_plus})"
    return replace(outcome, passes=outcome.passes and enough, reasons=(*outcome.reasons, asked))


def binds(ballot: Ballot, *, unknown: bool) -> bool:
    """Whether a ballot binds (or, with ``unknown``, no roster, may bind): the roster's
    word, an unverified identity's "no", else anything its voter does not call
    non-binding."""
    if ballot.binding is not None:
        return ballot.binding  # the roster's word, or an unverified identity's "no"
    return unknown and ballot.cast.reading.self_declared_binding is not False


def _majority(c: _Counts) -> tuple[bool, str]:
    """More +1 than -1 on the policy's basis, and the reason that says so."""
    reason = f"{c.basis_plus} {c.basis}+1 against {c.basis_minus} {c.basis}-1"
    return c.basis_plus > c.basis_minus, reason


def _quorum(c: _Counts, policy: VotePolicy) -> tuple[bool, str]:
    """Enough binding +1 for an approval rule, and the reason that says so."""
    reason = f"{len(c.plus)} {c.word} +1 (need {policy.min_binding_plus})"
    return len(c.plus) >= policy.min_binding_plus, reason


def _simple_majority(c: _Counts, policy: VotePolicy) -> Outcome:
    more, reason = _majority(c)
    return Outcome(more, (reason,), c.unknown)


def _majority_approval(c: _Counts, policy: VotePolicy) -> Outcome:
    quorum, need = _quorum(c, policy)
    more, against = _majority(c)
    return Outcome(quorum and more, (need, against), c.unknown)


def _consensus_approval(c: _Counts, policy: VotePolicy) -> Outcome:
    valid = [b for b in c.minus if _states_reason(b) or not policy.veto_needs_reason]
    invalid = [b for b in c.minus if b not in valid]
    quorum, need = _quorum(c, policy)
    reasons = [need]
    reasons.append(f"{len(valid)} {c.word} veto(es)" if valid else f"no {c.word} veto")
    if invalid:
        reasons.append(f"{len(invalid)} -1 without a stated reason, not counted as a veto")
    return Outcome(
        quorum and not valid,
        tuple(reasons),
        c.unknown,
        vetoes=tuple(b.voter for b in valid),
        invalid_vetoes=tuple(b.voter for b in invalid),
    )


def _lazy_two_thirds(c: _Counts, policy: VotePolicy) -> Outcome:
    # Abstentions are not counted towards the minimum: three +0 must not pass a change.
    cast = len(c.plus) + len(c.minus)
    passes = cast >= policy.min_binding_votes and len(c.plus) >= 2 * len(c.minus)
    reasons = (
        f"{cast} {c.word} votes (need {policy.min_binding_votes})",
        f"{len(c.plus)} {c.word} +1 against {len(c.minus)} {c.word} -1 (need twice as many +1)",
    )
    return Outcome(passes, reasons, c.unknown)


def _lazy_consensus(c: _Counts, policy: VotePolicy) -> Outcome:
    reason = f"{len(c.minus)} {c.word} -1 (lazy consensus passes with none)"
    vetoes = tuple(b.voter for b in c.minus)
    return Outcome(not c.minus, (reason,), c.unknown, vetoes=vetoes)


_RULES = {
    Rule.SIMPLE_MAJORITY: _simple_majority,
    Rule.MAJORITY_APPROVAL: _majority_approval,
    Rule.CONSENSUS_APPROVAL: _consensus_approval,
    Rule.LAZY_TWO_THIRDS: _lazy_two_thirds,
    Rule.LAZY_CONSENSUS: _lazy_consensus,
}
