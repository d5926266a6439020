"""Every real Maven vote, counted through the whole pipeline, against the official outcome."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Config, RosterConfig, RosterMember, VotesConfig
from bot.core.threads import parse_subject
from bot.core.votes import VoteReport, name_key
from bot.features.votes import vote_reports
from bot.ingest import import_paths
from bot.store import Store
from tests.corpus import corpus_path

pytestmark = pytest.mark.corpus

LATER = datetime(2018, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.open(tmp_path_factory.mktemp("votes") / "quorum.db")
    maven = [corpus_path("mbox", f"maven-dev-2017-{month}.mbox") for month in ("11", "12")]
    assert import_paths(store, maven).errors == []
    return store


def official() -> list[dict[str, Any]]:
    return json.loads(corpus_path("votes.json").read_text())["threads"]


def _binding_roster() -> RosterConfig:
    # votes.json names binding voters only for some votes; those people are on
    # the PMC. The full 2017 roster is not in the corpus, so only those votes
    # are checked with a roster; the others are counted with binding unknown.
    names = {name for entry in official() for name in entry.get("binding", [])}
    return RosterConfig(members=[RosterMember(name=name) for name in sorted(names)])


def _reports(
    store: Store, roster: RosterConfig | None = None, **votes: Any
) -> dict[str, VoteReport]:
    config = Config(votes=VotesConfig(**votes), roster=roster or RosterConfig())
    return {parse_subject(r.subject).topic: r for r in vote_reports(store, config, LATER)}


def _names(report: VoteReport, bucket: int) -> set[str]:
    return {name_key(b.voter) for b in report.ballots if b.bucket == bucket}


def _keys(names: list[str]) -> set[str]:
    return {name_key(name) for name in names}


@pytest.mark.parametrize("entry", official(), ids=lambda e: e["vote_subject"][:60])
def test_tally_matches_the_official_result(store: Store, entry: dict[str, Any]):
    report = _reports(store)[parse_subject(entry["vote_subject"]).topic]
    # A ballot with no explicit value counts as the RESULT reads it (the release
    # manager's interpretation), and is still reported as ambiguous, never folded in.
    assert {name_key(b.voter) for b in report.ballots if b.ambiguous} == _keys(
        entry.get("ambiguous", [])
    )
    assert _names(report, 1) == _keys(entry["plus_one"])
    assert _names(report, 0) == _keys(entry["zero"])
    assert _names(report, -1) == _keys(entry["minus_one"])
    assert report.state.value == entry["outcome"]
    if entry["outcome"] == "passed":
        assert report.agrees_with_announced is True


@pytest.mark.parametrize(
    "entry",
    [entry for entry in official() if "binding" in entry],
    ids=lambda e: e["vote_subject"][:60],
)
def test_binding_voters_come_from_the_roster(store: Store, entry: dict[str, Any]):
    report = _reports(store, _binding_roster())[parse_subject(entry["vote_subject"]).topic]
    assert {name_key(b.voter) for b in report.ballots if b.binding} == _keys(entry["binding"])
    assert report.tally.binding_plus == len(entry["binding"])
    assert all(
        b.binding is False
        for b in report.ballots
        if name_key(b.voter) not in _keys(entry["binding"])
    )
