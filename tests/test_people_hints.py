"""Who is who: links from rosters, hints from mail, and a person deciding on the hints."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.config import Config, RosterConfig, RosterMember
from bot.core.hints import hint_from_mirror, hints_in_result
from bot.features.roster import people_for, refresh_hints
from bot.features.votes import vote_report
from bot.ingest import import_paths
from bot.store import Store
from bot.store import sources as source_store
from tests.test_cli import quorum

NOW = datetime(2024, 9, 1, tzinfo=UTC)
VOTE = "<apache/tvm/issues/17179@github.com>"


def test_result_lines_pair_names_with_logins_that_posted():
    text = (
        "## +1 votes\n- Tom Zhou (sequoiar)\n- Ruihang Lai (MasterJH5574) (binding)\n"
        '- Someone Else (nobody-posted)\nThis vote passes with 5 "+1 votes" (4 binding).\n'
        "I vote for Tianqi Chen (tqchen) as the release manager.\n"
    )
    found = hints_in_result(text, "<r@x>", {"sequoiar", "MasterJH5574", "tqchen", "binding"})
    assert [(h.name, h.login) for h in found] == [
        ("Tom Zhou", "sequoiar"),
        ("Ruihang Lai", "MasterJH5574"),
    ]
    assert hint_from_mirror("Tianqi Chen", "tqchen", "<c@x>") is not None
    assert hint_from_mirror("tqchen", "tqchen", "<c@x>") is None


def test_hints_from_a_result_mail_count_only_once_accepted(store: Store, corpus: Path):
    import_paths(store, [corpus / "labelled" / "github" / "mbox" / "tvm-vote-v0.17.0.mbox"])
    assert refresh_hints(store, now=NOW) == 5
    assert refresh_hints(store, now=NOW) == 0  # known hints are not added twice
    pairs = {(h.alias, h.person, h.state) for h in source_store.hints(store)}
    assert ("sequoiar", "Tom Zhou", "unconfirmed") in pairs
    assert ("tqchen", "Tianqi Chen", "unconfirmed") in pairs
    config = Config(roster=RosterConfig(members=[RosterMember(name="Tianqi Chen")]))
    assert people_for(store, config).person_of_handle("tqchen") is None  # unconfirmed: no

    def tianqi() -> tuple[str, bool | None]:
        report = vote_report(store, config, VOTE, NOW)
        ballot = next(b for b in report.ballots if b.voter in ("tqchen", "Tianqi Chen"))
        return ballot.voter, ballot.binding

    assert tianqi() == ("tqchen", False)
    source_store.decide_hints(store, "tqchen", "accepted", person=None, now=NOW)
    assert tianqi() == ("Tianqi Chen", True)
    source_store.decide_hints(store, "tqchen", "rejected", person=None, now=NOW)
    assert tianqi() == ("tqchen", False)


def test_people_command_lists_accepts_and_refuses_what_it_cannot_decide(
    tmp_path: Path, corpus: Path
):
    db = tmp_path / "q.db"
    mbox = corpus / "labelled" / "github" / "mbox" / "tvm-vote-v0.17.0.mbox"
    assert quorum("import", str(mbox), db=db).returncode == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("name,github\nTianqi Chen,tqchen\nT. Chen,tqchen\n")
    assert quorum("roster", "import", str(roster), db=db).returncode == 0
    listed = quorum("people", db=db)
    assert listed.returncode == 0, listed.stderr
    assert "Tom Zhou" in listed.stdout
    assert "unconfirmed" in listed.stdout
    ambiguous = quorum("people", "accept", "TQCHEN", db=db)
    assert ambiguous.returncode == 1
    assert "is linked to several people (T. Chen, Tianqi Chen); add --person NAME" in (
        ambiguous.stderr
    )
    unknown = quorum("people", "accept", "nobody", db=db)
    assert unknown.stderr.strip() == "error: no hint for 'nobody'; `quorum people` lists them"
    accepted = quorum("people", "accept", "sequoiar", db=db)
    assert accepted.stdout.strip() == "sequoiar = Tom Zhou: accepted"
