"""The written replies of bench/replies.py: Quorum keeps reading them as well as measured.

The sets measure phrasing no labelled thread uses (README, "How well Quorum reads a
discussion"); a change that reads them worse fails here, as test_judgement.py guards
the labelled slices. Floors: the figures of 2026-12-06 minus one.
"""

from __future__ import annotations

import pytest

from bench.replies import SETS, raises_concern, score_set

# set: (objecting replies found at least, neutral replies wrongly found at most)
# (objecting, neutral) replies in a set: the helpers' sets (g on) hold 40 and 30.
SIZES = {name: (40, 30) for name in "ghijkl"}
FLOORS = {
    "a": (25, 2),
    "b": (27, 2),
    "c": (28, 2),
    "d": (22, 1),
    "e": (26, 1),
    "f": (29, 1),
    "g": (39, 3),
    "h": (37, 2),
    "i": (35, 2),
    "j": (27, 8),
    "k": (38, 2),
    "l": (25, 8),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_written_replies_read_at_least_as_well_as_measured(name: str):
    score = score_set(name)
    least, most = FLOORS[name]
    assert (score.objecting, score.neutral) == SIZES.get(name, (30, 20))
    assert score.found >= least, score.missed
    assert score.wrongly <= most, score.wrong


def test_a_reply_is_read_as_a_participants_answer_to_the_proposal():
    assert raises_concern("I'm a -1 on this as written.")
    assert not raises_concern("Thanks, that makes sense now.")
