"""Votes: reading ballots, tallying them by a project's rules, checking RESULT mails.

Pure: no I/O, no clock. Time arrives as ``now`` and as post timestamps.

Import from here (``from bot.core.votes import report_vote``); the modules are
laid out in the order a vote thread is read:

=============  ==============================================================
``values``     what ``+1``, ``-0``, ``+0.5`` mean: formatting and buckets
``prose``      which lines of a post are prose (no code, diffs, build logs)
``grammar``    one post's text as a ballot: :func:`parse_ballot`
``call``       the call's period: :func:`parse_call`, :class:`CallTerms`
``tally``      identities, roster, every voter's standing ballot, the counts
``rules``      the policy and its rule: :func:`decide`, :class:`Outcome`
``result``     RESULT mails: :func:`parse_result`, :func:`compare`
``report``     all of it for one thread as of ``now``: :func:`report_vote`
=============  ==============================================================

Quotes, attributions, signatures and list footers are cut by the mail
normaliser (:mod:`bot.core.text`) before a post gets here; the readers apply
the same cut again only as a cheap guard against raw text.
"""

from __future__ import annotations

from bot.core.people import name_key
from bot.core.votes.call import CallTerms, parse_call
from bot.core.votes.grammar import BallotReading, ReadingKind, parse_ballot
from bot.core.votes.policy import (
    MajorityBasis,
    Outcome,
    Rule,
    VotePolicy,
    VoteState,
    decide,
    forecast,
)
from bot.core.votes.report import Flag, VoteReport, report_vote
from bot.core.votes.result import (
    AnnouncedEntry,
    AnnouncedResult,
    Discrepancy,
    compare,
    match_voter,
    parse_result,
    voter_candidates,
)
from bot.core.votes.tally import (
    Ballot,
    Cast,
    Member,
    Roster,
    Tally,
    collect_ballots,
    count_ballots,
    resolve_voter,
)
from bot.core.votes.values import format_value

__all__ = [
    "AnnouncedEntry",
    "AnnouncedResult",
    "Ballot",
    "BallotReading",
    "CallTerms",
    "Cast",
    "Discrepancy",
    "Flag",
    "MajorityBasis",
    "Member",
    "Outcome",
    "ReadingKind",
    "Roster",
    "Rule",
    "Tally",
    "VotePolicy",
    "VoteReport",
    "VoteState",
    "collect_ballots",
    "compare",
    "count_ballots",
    "decide",
    "forecast",
    "format_value",
    "match_voter",
    "name_key",
    "parse_ballot",
    "parse_call",
    "parse_result",
    "report_vote",
    "resolve_voter",
    "voter_candidates",
]
