"""Every labelled vote in every labelled slice is read right, through the whole pipeline.

The slices under ``../shared/corpus/labelled/`` (format: ``labelled/FORMAT.md``) are
found at collection time, so a new slice with votes is covered without touching this
file. Each slice is imported as ``quorum import`` would and read as ``quorum votes
--json`` does, on the default configuration; a vote is right when its +1, 0 and -1
voter sets, its outcome and its agreement with the announced result match the label
(scored exactly as ``bench/judgement.py`` scores them).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench.judgement import NOW, score_vote, shared_slice
from bot.config import Config
from bot.features.votes import vote_reports
from bot.ingest import import_paths
from bot.store import Store
from tests.corpus import CORPUS, corpus_path

pytestmark = pytest.mark.corpus


def _labelled_votes() -> list[tuple[str, str]]:
    """(slice, vote subject) of every labelled vote there is; nothing when there is no corpus."""
    found = []
    for labels in sorted((CORPUS / "labelled").glob("*/labels.json")):
        for vote in json.loads(labels.read_text()).get("votes", []):
            found.append((labels.parent.name, vote["vote_subject_contains"]))
    return found


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """``votes --json`` of each slice, imported into a store of its own."""
    read: dict[str, list[dict[str, Any]]] = {}
    for labels in sorted(corpus_path("labelled").glob("*/labels.json")):
        mboxes = sorted((labels.parent / "mbox").glob("*.mbox"))
        store = Store.open(tmp_path_factory.mktemp(labels.parent.name) / "quorum.db")
        try:
            assert import_paths(store, mboxes, workers=1).errors == []
            read[labels.parent.name] = [r.to_dict() for r in vote_reports(store, Config(), NOW)]
        finally:
            store.close()
    return read


def test_the_labelled_corpus_is_there_and_has_votes():
    labelled = corpus_path("labelled")
    assert _labelled_votes(), f"no labelled votes under {labelled}"


@pytest.mark.parametrize(("slice_name", "subject"), _labelled_votes())
def test_a_labelled_vote_is_read_right(
    reports: dict[str, list[dict[str, Any]]], slice_name: str, subject: str
):
    labels = shared_slice(corpus_path("labelled", slice_name, "labels.json"))
    [label] = [vote for vote in labels.votes if vote.subject == subject]
    score = score_vote(label, reports[slice_name])
    assert score.problems == [], f"{slice_name}/{label.mbox}"


def test_tvm_results_are_linked_to_their_vote_issues(reports: dict[str, list[dict[str, Any]]]):
    tvm = [r for r in reports["github"] if "Apache TVM" in r["subject"]]
    assert len(tvm) == 6
    assert all(r["result_post"] and not r["result_in_thread"] for r in tvm)
    claimed = {r["subject"]: r["binding_claimed_by_result"] for r in tvm}
    v17 = next(c for s, c in claimed.items() if "v0.17.0" in s)
    assert v17["voters"] == ["MasterJH5574", "tqchen", "vinx13"]
    assert all(b["identity"]["via"] == "archive" for r in tvm for b in r["ballots"])


def test_a_result_announced_in_a_list_thread_closes_it(reports: dict[str, list[dict[str, Any]]]):
    # Spark, March 2020: the caller's "This vote passes." and the voters he listed.
    [spark] = [r for r in reports["lists"] if "Semantic Versioning" in r["subject"]]
    assert spark["result_in_thread"] is True
    assert spark["ballots"] == []  # the listing of 19 names is nobody's ballot
    assert spark["announced"]["outcome"] == "passed"
    assert spark["agrees_with_announced"] is False  # none of those ballots is in the mbox


def test_a_box_checked_in_a_quoted_template_is_a_ballot(reports: dict[str, list[dict[str, Any]]]):
    # Jakarta, May 2007: Ted Husted's "[x] -1" in the vote template he quoted.
    [commons] = [r for r in reports["lists"] if "Commons TLP" in r["subject"]]
    assert [(b["voter"], b["vote"]) for b in commons["ballots"]] == [("Ted Husted", "-1")]
