"""How Quorum reads replies worded as no labelled thread words them.

The labelled slices (``make eval``) measure Quorum on real threads, but their concerns
were all found before this measure existed, so they cannot show how much of the
phrasing of communities we have not seen the cues cover. These sets can: replies of the
kind RFC and vote threads carry, written by the Quorum team, each set *before* the
change it measures and never fixed against afterwards (``data/replies/``):

- ``a``: written on 2026-12-06 before the first round's last idioms, whose misses that
  round then fixed (16 of 30 found before the day's work, 19 when written);
- ``b``: written after the first round, then fixed against by a second (15 of 30 before
  the day's work, 18 when written, 28 after the second round);
- ``c``: written after the second round, then fixed against by a third (19 of 30
  before the day's work, 21 after the first round, 21 after the second, 29 after the
  third);
- ``d``: written after the third round and never looked at to write a cue (22 of 30
  before the day's work, 23 after each of the three rounds);
- ``e``: written at stop 39, read unseen (20 of 30, 1 of 20 neutral wrongly), then
  fixed against;
- ``f``: written at stop 40, read unseen (22 of 30, 5 of 20 neutral wrongly), then
  fixed against;
- ``g``: 40 objecting and 30 neutral replies written at stop 40 by a helper who saw
  neither the code nor the other sets, in many communities' voices, read unseen (33 of
  40, 8 of 30 neutral wrongly), then fixed against;
- ``h``: the same, by another such helper, written to another proposal (decisions
  moved from the list to GitHub Discussions, with a revert rule), read unseen (19 of
  40, 5 of 30 neutral wrongly), then fixed against;
- ``i``: the same, by a third such helper, to a third proposal (deprecating a library's
  synchronous client), read unseen after ``g`` and ``h`` were fixed (24 of 40, 6 of 30
  neutral wrongly), then fixed against;
- ``j``: the same, by a fourth such helper, to a fourth proposal (the CLA replaced by DCO
  sign-off), read after ``g``, ``h`` and ``i`` were fixed and never fixed against: the
  measure of phrasing and topics nobody tuned on (28 of 40, 7 of 30 neutral wrongly);
- ``k``: the same, by a fifth such helper, to a fifth proposal (the build moved from
  Maven to Gradle), read unseen after ``j`` (27 of 40, 10 of 30 neutral wrongly), then
  fixed against;
- ``l``: the same, by a sixth such helper, to a sixth proposal (monthly releases with a
  yearly LTS, on a forum), read after ``k`` was fixed and never fixed against (26 of 40,
  7 of 30 neutral wrongly).

``objecting-*`` replies object to the proposal and should each raise a concern;
``neutral-*`` replies object to nothing (thanks, answers, plans, good effects on people)
and should raise none. One reply per line; ``\\n`` stands for a line break. Each reply
is read as a reply by a participant to a proposal, as the ledger reads it.

    python -m bench.replies
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.concerns import ConcernSource, build_ledger
from bot.model import Person, Post, Source

DATA = Path(__file__).parent / "data" / "replies"
SETS = {
    "a": "written in the first round, fixed against since",
    "b": "written after the first round, fixed against since",
    "c": "written after the second round, fixed against since",
    "d": "written after every change, never fixed against",
    "e": "written at stop 39, read 20/30 and 1/20 unseen, fixed against since",
    "f": "written at stop 40, read 22/30 and 5/20 unseen, fixed against since",
    "g": "written at stop 40 by a helper who saw no code, read 33/40 and 8/30 unseen,"
    " fixed against since",
    "h": "the same, to a governance proposal, read 19/40 and 5/30 unseen, fixed against since",
    "i": "the same, to a deprecation, read 24/40 and 6/30 unseen, fixed against since",
    "j": "the same, to a CLA-to-DCO switch, written after every change, never fixed against",
    "k": "the same, to a build-tool switch, read 27/40 and 10/30 unseen, fixed against since",
    "l": "the same, to monthly releases, written after every change, never fixed against",
}
_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
_PROPOSER = Person("Alice Archer", "alice@example.org")
_REVIEWER = Person("Bob Baker", "bob@example.org")
_PROPOSAL = "Hi all,\n\nI propose that we replace the XML config with TOML in 2.0.\n\nThoughts?"
# Sets written to another proposal than the TOML one, so that no cue leans on its words.
_PROPOSALS = {
    "h": (
        "I propose that we move design decisions from the dev@ list to GitHub Discussions,"
        " and that any design change merged without 72 hours of lazy consensus there be"
        " reverted. Please comment."
    ),
    "i": (
        "Proposal: deprecate the synchronous client in 4.0 and remove it in 5.0, so that we"
        " only maintain the async client. Feedback welcome."
    ),
    "j": (
        "Proposal: starting next month we replace the CLA with DCO sign-off (Signed-off-by"
        " lines) for all contributions, and CI will reject unsigned commits. Comments"
        " welcome until Friday."
    ),
    "k": (
        "[PROPOSAL] Switch our build from Maven to Gradle for the 5.0 line. I have a working"
        " branch. Objections by the end of next week, otherwise I'll start a vote."
    ),
    "l": (
        "Proposal: move from quarterly feature releases to monthly ones, with an LTS release"
        " every 12 months that gets security fixes for two years. Discussion open for two"
        " weeks."
    ),
}


@dataclass(frozen=True)
class SetScore:
    name: str
    objecting: int
    neutral: int
    missed: tuple[str, ...]
    wrong: tuple[str, ...]

    @property
    def found(self) -> int:
        return self.objecting - len(self.missed)

    @property
    def wrongly(self) -> int:
        return len(self.wrong)


def replies(path: Path) -> list[str]:
    """The replies of one file: one a line, ``\\n`` for a line break."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.replace("\\n", "\n") for line in lines if line.strip()]


def raises_concern(text: str, proposal: str = _PROPOSAL) -> bool:
    """Whether the ledger records a concern for ``text`` sent as a reply to a proposal."""
    root = _post("<r@example.org>", _PROPOSER, proposal, None, 0)
    reply = _post("<c@example.org>", _REVIEWER, text, root.key, 1)
    ledger = build_ledger(root.key, [root, reply], _START + timedelta(days=30))
    return any(c.source is ConcernSource.DETECTED for c in ledger.concerns)


def _post(key: str, author: Person, text: str, parent: str | None, hours: int) -> Post:
    return Post(
        source=Source.MAIL,
        key=key,
        message_id=key,
        thread_key="<r@example.org>",
        author=author,
        created_at=_START + timedelta(hours=hours),
        subject="Re: [RFC] TOML config" if parent else "[RFC] TOML config",
        text=text,
        in_reply_to=parent,
        references=(parent,) if parent else (),
    )


def score_set(name: str) -> SetScore:
    objecting = replies(DATA / f"objecting-{name}.txt")
    neutral = replies(DATA / f"neutral-{name}.txt")
    proposal = _PROPOSALS.get(name, _PROPOSAL)
    missed = tuple(text for text in objecting if not raises_concern(text, proposal))
    wrong = tuple(text for text in neutral if raises_concern(text, proposal))
    return SetScore(name, len(objecting), len(neutral), missed, wrong)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", action="store_true", help="List every miss and wrong hit.")
    args = parser.parse_args(argv)
    scores = [score_set(name) for name in SETS]
    print("Replies worded as no labelled thread words them (bench/data/replies):\n")
    print("| set | objecting replies found | neutral replies wrongly found |")
    print("|---|---|---|")
    for s in scores:
        print(f"| {s.name}: {SETS[s.name]} | {s.found}/{s.objecting} | {s.wrongly}/{s.neutral} |")
    if args.misses:
        for s in scores:
            for text in s.missed:
                print(f"MISS  {s.name} {text[:100]!r}")
            for text in s.wrong:
                print(f"WRONG {s.name} {text[:100]!r}")


if __name__ == "__main__":
    main()
