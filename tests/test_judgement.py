"""Quorum's reading of real discussions, scored against careful readers' labels.

Runs the harness of ``bench/judgement.py`` (also ``make eval``) on every slice
under ``../shared/corpus/labelled/`` and on our own labels: each slice is
imported as ``quorum import`` would and read with the functions behind
``quorum concerns --json``. New slices are picked up as they appear.

The issue's targets (recall and precision >= 0.8 in every slice) are met on the
three slices of other communities' threads, and held there: a change that takes one
below them fails here. Elsewhere (our own labels) the floor is the figure measured
when the model was last fitted (README, "How well Quorum reads a discussion"), minus
a margin, so that a change that makes Quorum read worse fails too. A slice we have
never measured gets the generic floor.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.judgement import (
    OWN_SLICE,
    Evaluation,
    Label,
    LabelledThread,
    SliceStore,
    collect,
    discover,
    evaluate,
    fit_model,
    score_thread,
    totals,
)
from bot.core.concern_model import DEFAULT_MODEL
from tests.corpus import corpus_path

pytestmark = pytest.mark.corpus

TARGET = 0.8
# (recall, precision) measured on 2026-12-05 (recall counted one to one), minus 0.05,
# and never below the target where it is met; lists recall as measured on 2026-12-06
# (stop 39), the own slice as measured at stop 43 (0.88, 0.85).
FLOORS = {
    "git": (0.83, TARGET),
    "github": (0.84, 0.87),
    "lists": (0.89, TARGET),
    OWN_SLICE: (TARGET, TARGET),
}
GENERIC_FLOOR = (0.45, 0.4)
# Of the labelled concerns found, the share whose answered / not answered the ledger
# reads as the label does (measured 0.90), and resolved / not resolved among those the
# label can tell (measured 0.78, 47 of 60, on 2026-12-05).
MIN_ANSWERED_AGREEMENT = 0.85
MIN_RESOLVED_AGREEMENT = 0.73


@pytest.fixture(scope="module")
def stores() -> Iterator[list[SliceStore]]:
    corpus_path("labelled")
    slices = discover()
    assert {"github", "lists", "git", OWN_SLICE} <= {s.name for s in slices}
    with tempfile.TemporaryDirectory(prefix="quorum-eval-") as scratch:
        opened = [SliceStore(s, Path(scratch)) for s in slices]
        yield opened
        for store in opened:
            store.close()


@pytest.fixture(scope="module")
def evaluation(stores: list[SliceStore]) -> Evaluation:
    return evaluate(stores)


def test_every_slice_reads_at_least_as_well_as_last_measured(evaluation: Evaluation):
    report = []
    for name, scores in evaluation.scores.items():
        total = totals(scores)
        recall, precision = FLOORS.get(name, GENERIC_FLOOR)
        report.append(f"{name}: recall {total.recall:.2f}, precision {total.precision:.2f}")
        assert total.recall >= recall, report
        assert total.precision >= precision, report


def test_answered_is_read_as_a_careful_reader_reads_it(evaluation: Evaluation):
    total = totals(evaluation.all_scores())
    assert total.answered_right / total.answered_scored >= MIN_ANSWERED_AGREEMENT


def test_resolved_is_read_as_a_careful_reader_reads_it(evaluation: Evaluation):
    total = totals(evaluation.all_scores())
    assert total.resolved_right / total.resolved_scored >= MIN_RESOLVED_AGREEMENT


def test_no_concern_is_called_resolved_when_the_label_says_it_visibly_is_not(
    evaluation: Evaluation,
):
    # Telling a list that someone's concern is settled when it is not is the costly mistake.
    wrong = [
        f"{score.thread.mbox}: {label.id}"
        for score in evaluation.all_scores()
        for label, detected in score.found
        if label.resolved is False and detected["state"] == "resolved"
    ]
    assert wrong == []


def test_the_committed_weights_are_what_the_harness_fits(stores: list[SliceStore]):
    """bot/core/concern_weights.py is generated: nobody tunes a weight by hand."""
    fitted = fit_model([post for opened in stores for post in collect(opened)])
    assert fitted.post_threshold == pytest.approx(DEFAULT_MODEL.post_threshold)
    assert fitted.point_threshold == pytest.approx(DEFAULT_MODEL.point_threshold)
    for name, weight in DEFAULT_MODEL.sentence_weights.items():
        assert fitted.sentence_weights[name] == pytest.approx(weight, abs=1e-3), name
    for name, weight in DEFAULT_MODEL.post_weights.items():
        assert fitted.post_weights[name] == pytest.approx(weight, abs=1e-3), name


def test_one_detection_stands_for_one_labelled_concern():
    # A detection whose text holds the phrases of two labels is one concern to a reader:
    # recall counts it once, whichever label it is paired with.
    labels = (
        Label("number", "bob", "<p2>", ("no number until accepted",)),
        Label("record", "bob", "<p2>", ("keep a record",)),
    )
    thread = LabelledThread("s", "m.mbox", "c", labels, ())
    both = {"raised_by": "Bob", "title": "", "text": "No number until accepted? Keep a record."}
    assert len(score_thread(thread, [both]).found) == 1
    # Two detections, one of them matching both labels: both labels are found.
    record = {"raised_by": "Bob", "title": "", "text": "Also keep a record of rejected ones."}
    score = score_thread(thread, [both, record])
    assert {label.id: found["text"] for label, found in score.found} == {
        "number": both["text"],
        "record": record["text"],
    }
    assert score.wrong == []
