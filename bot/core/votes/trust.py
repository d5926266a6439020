"""What a vote report can and cannot vouch for: voters' identities and claimed binding.

Each ballot carries its author as :mod:`bot.core.people` read them: verified
or not, how (an address over SMTP, a GitHub login from an imported archive,
a forum username), and whether a roster match rests on a display name alone.
This module turns that into the report's flags and its provenance summary,
and reads which voters a RESULT mail *claims* are binding: with no roster
that claim is all there is, so it is reported as the RESULT's, never as fact.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.core.people import Via, address_key
from bot.core.votes.result import AnnouncedResult, match_voter
from bot.core.votes.tally import Ballot, Tally

VIA_WORDS = {
    Via.SMTP: "delivered over SMTP",
    Via.ARCHIVE: "from an imported archive (trusted as far as that archive is)",
    Via.FORUM: "from the forum's API",
    Via.UNKNOWN: "stored before Quorum recorded how mail arrived",
}


@dataclass(frozen=True, slots=True)
class BindingClaim:
    """The voters a RESULT mail marks binding, matched to ballots where possible."""

    source: str  # the RESULT post's key
    names: tuple[str, ...]
    voters: tuple[str, ...]
    unmatched: tuple[str, ...]
    count: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "names": list(self.names),
            "voters": list(self.voters),
            "not_in_thread": list(self.unmatched),
            "count": self.count,
        }


def binding_claimed(
    tally: Tally, announced: AnnouncedResult | None, source: str
) -> BindingClaim | None:
    """Who the RESULT says is binding, as the RESULT says it; None when it says nothing."""
    if announced is None:
        return None
    plus = announced.entry(1.0)
    names = list(announced.binding_names)
    for entry in announced.entries:
        names += entry.binding_names
    count = plus.binding_count if plus is not None else None
    if not names and count is None:
        return None
    voters: list[str] = []
    unmatched: list[str] = []
    for name in dict.fromkeys(names):
        ballot = match_voter(name, tally.ballots)
        if ballot is None:
            unmatched.append(name)
        elif ballot.voter not in voters:
            voters.append(ballot.voter)
    return BindingClaim(source, tuple(dict.fromkeys(names)), tuple(voters), tuple(unmatched), count)


def provenance(tally: Tally) -> dict[str, int]:
    """How many ballots came by each way in ("archive": 5, "smtp": 2)."""
    counts = Counter(_via(ballot).value or "unknown" for ballot in tally.ballots)
    return dict(sorted(counts.items()))


def _via(ballot: Ballot) -> Via:
    author = ballot.cast.author
    return author.via if author is not None else Via.UNKNOWN


@dataclass(frozen=True, slots=True)
class IdentityFlag:
    kind: str
    detail: str
    voters: tuple[str, ...]


def identity_flags(tally: Tally) -> list[IdentityFlag]:
    """What a chair should know about who cast the ballots."""
    flags: list[IdentityFlag] = []
    by_name: list[str] = []
    for ballot in tally.ballots:
        author = ballot.cast.author
        if author is None:
            continue
        if author.problem:
            detail = f"{author.label}: {author.problem}; never binding"
            flags.append(IdentityFlag("unverified-identity", detail, (ballot.voter,)))
        elif author.configured and author.by_name and ballot.binding:
            by_name.append(ballot.voter)
        addresses = {address_key(alias.rpartition("<")[2].rstrip(">")) for alias in ballot.aliases}
        if not author.configured and not author.problem and len(addresses) > 1:
            detail = (
                f"one name from several addresses ({', '.join(sorted(addresses))}), counted as"
                " one voter; map them in [identities] if that is one person"
            )
            flags.append(IdentityFlag("several-addresses", detail, (ballot.voter,)))
    if by_name:
        detail = (
            "binding by display name alone: the config gives them no address or login to check"
            " (add them to [identities])"
        )
        flags.append(IdentityFlag("identity-by-name", detail, tuple(by_name)))
    return flags
