"""Rosters from where projects write them down, dated, and votes counted with them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.config import Config, RosterConfig, RosterMember
from bot.core.roster import (
    PMC,
    RosterFormatError,
    changes_from,
    detect_format,
    parse_committee_info,
    parse_contributors_md,
    parse_roster_csv,
    roster_on,
)
from bot.features.roster import import_roster
from bot.features.votes import vote_report
from bot.store import Store
from bot.store import sources as source_store
from tests.mailgen import raw_mail
from tests.stores import ingest
from tests.test_cli import quorum

NOW = datetime(2024, 1, 1, tzinfo=UTC)

# The shape Whimsy publishes (www/roster/public_committee_info.rb).
COMMITTEE_INFO = {
    "last_updated": "2022-06-01 04:50:00 UTC",
    "committees": {
        "tvm": {
            "display_name": "TVM",
            "site": "https://tvm.apache.org/",
            "description": "a compiler stack for deep learning systems",
            "mail_list": "tvm",
            "established": "11/2020",
            "report": ["February", "May", "August", "November"],
            "chair": {"tqchen": {"name": "Tianqi Chen"}},
            "roster": {
                "tqchen": {"name": "Tianqi Chen", "date": "2020-11-18"},
                "masahi": {"name": "Masahiro Masuda", "date": "2022-03-01"},
                "jroesch": {"name": "Jared Roesch", "date": "2020-11-18"},
            },
            "pmc": True,
        },
        "zookeeper": {"display_name": "ZooKeeper", "roster": {}, "pmc": True},
    },
}

CONTRIBUTORS = """\
TVM Contributors
================

## Mentors

- Markus Weimer @markusweimer

## Committers

We add tag along with committer name to show areas that they are familiar with.

- [Tianqi Chen](https://github.com/tqchen) (PMC): @tqchen - topi, compiler, relay, docs
- [Wuwei Lin](https://github.com/vinx13) (PMC): @vinx13 - relay, topi
- [Hao Lu](https://github.com/hlu1): @hlu1 - nnpack, frontends

## Reviewers

- [Neo Chien](https://github.com/cchung100m): @cchung100m

## List of Contributors
- [Full List of Contributors](https://github.com/apache/tvm/graphs/contributors)
- [Qiao Zhang](https://github.com/zhangqiaorjc)
"""


def test_committee_info_gives_the_pmc_with_join_dates_and_asf_addresses():
    snapshot = parse_committee_info(json.dumps(COMMITTEE_INFO), "TVM")
    assert snapshot.as_of == date(2022, 6, 1)
    assert snapshot.source == "committee-info:tvm"
    by_name = {e.name: e for e in snapshot.entries}
    assert set(by_name) == {"Tianqi Chen", "Masahiro Masuda", "Jared Roesch"}
    assert by_name["Masahiro Masuda"].joined == date(2022, 3, 1)
    assert by_name["Masahiro Masuda"].addresses == ("masahi@apache.org",)
    assert all(e.role == PMC for e in snapshot.entries)


def test_committee_info_names_what_is_wrong():
    with pytest.raises(RosterFormatError, match="no committee 'tmv' with a roster"):
        parse_committee_info(json.dumps(COMMITTEE_INFO), "tmv")
    with pytest.raises(RosterFormatError, match=r"not Whimsy's committee-info\.json"):
        parse_committee_info("{}", "tvm")


def test_contributors_md_reads_pmc_marks_committers_reviewers_and_logins():
    snapshot = parse_contributors_md(CONTRIBUTORS, date(2024, 5, 1))
    roles = {(e.name, e.role) for e in snapshot.entries}
    assert ("Tianqi Chen", "pmc") in roles
    assert ("Wuwei Lin", "pmc") in roles
    assert ("Hao Lu", "committer") in roles
    assert ("Hao Lu", "pmc") not in roles
    assert ("Neo Chien", "reviewer") in roles
    assert ("Markus Weimer", "mentor") in roles
    assert not any(e.name in ("Qiao Zhang", "Full List of Contributors") for e in snapshot.entries)
    tianqi = next(e for e in snapshot.entries if e.name == "Tianqi Chen")
    assert tianqi.logins == ("tqchen",)
    assert detect_format("CONTRIBUTORS.md", CONTRIBUTORS) == "contributors"


def test_csv_roster_with_dates_and_a_bad_date_named_by_line():
    text = (
        "name,role,joined,left,github,email\n"
        "Ada Lovelace,pmc,2019-01-01,2023-06-30,ada,Ada@Example.org\n"
    )
    snapshot = parse_roster_csv(text, date(2024, 1, 1))
    (ada,) = snapshot.entries
    assert (ada.joined, ada.left, ada.logins, ada.addresses) == (
        date(2019, 1, 1),
        date(2023, 6, 30),
        ("ada",),
        ("ada@example.org",),
    )
    with pytest.raises(RosterFormatError, match="line 3: '2019-13-01' is not a date"):
        parse_roster_csv(text + "Bob,pmc,2019-13-01,,,\n", date(2024, 1, 1))
    with pytest.raises(RosterFormatError, match="needs a 'name' column"):
        parse_roster_csv("who,when\n", date(2024, 1, 1))


def test_a_later_snapshot_without_someone_dates_their_leaving_and_reimport_adds_nothing():
    first = parse_committee_info(json.dumps(COMMITTEE_INFO), "tvm")
    changes = changes_from(first, [])
    assert len(changes) == 3
    assert changes_from(first, changes) == []  # the same file again changes nothing
    later = json.loads(json.dumps(COMMITTEE_INFO))
    later["last_updated"] = "2023-02-01 10:00:00 UTC"
    del later["committees"]["tvm"]["roster"]["jroesch"]
    left = changes_from(parse_committee_info(json.dumps(later), "tvm"), changes)
    assert [(c.name, c.change, c.on) for c in left] == [("Jared Roesch", "leave", date(2023, 2, 1))]
    everything = [*changes, *left]
    assert roster_on(everything, date(2022, 12, 31)) == [
        "Jared Roesch",
        "Masahiro Masuda",
        "Tianqi Chen",
    ]
    assert roster_on(everything, date(2022, 2, 1)) == ["Jared Roesch", "Tianqi Chen"]
    assert roster_on(everything, date(2023, 2, 1)) == ["Masahiro Masuda", "Tianqi Chen"]


def _vote(store: Store, opened: str, tag: str) -> str:
    """A vote opened on ``opened`` (RFC 2822 date) with +1s from three PMC members."""
    call = f"<vote-{tag}@example.org>"
    ingest(
        store,
        raw_mail(
            "Please vote.\n", subject=f"[VOTE] Release TVM {tag}", message_id=call, date=opened
        ),
    )
    for n, sender in enumerate(
        (
            "Tianqi Chen <tqchen@apache.org>",
            "Masahiro Masuda <masahi@apache.org>",
            "Jared Roesch <jroesch@apache.org>",
        )
    ):
        ingest(
            store,
            raw_mail(
                "+1\n",
                subject=f"Re: [VOTE] Release TVM {tag}",
                message_id=f"<b{n}-{tag}@example.org>",
                sender=sender,
                date=opened.replace("10:00", f"1{n + 1}:00"),
                extra=f"In-Reply-To: {call}",
            ),
        )
    return call


def _binding(store: Store, config: Config, call: str) -> list[str]:
    report = vote_report(store, config, call, NOW)
    return sorted(b.voter for b in report.ballots if b.binding)


def test_a_vote_is_counted_with_the_imported_roster_as_it_stood_when_the_vote_opened(
    store: Store,
):
    import_roster(store, parse_committee_info(json.dumps(COMMITTEE_INFO), "tvm"), now=NOW)
    later = json.loads(json.dumps(COMMITTEE_INFO))
    later["last_updated"] = "2023-02-01 10:00:00 UTC"
    del later["committees"]["tvm"]["roster"]["jroesch"]
    result = import_roster(store, parse_committee_info(json.dumps(later), "tvm"), now=NOW)
    assert (result.joined, result.left) == (0, 1)
    config = Config()
    february_2022 = _vote(store, "Tue, 01 Feb 2022 10:00:00 +0000", "0.8")
    june_2022 = _vote(store, "Wed, 01 Jun 2022 10:00:00 +0000", "0.9")
    march_2023 = _vote(store, "Wed, 01 Mar 2023 10:00:00 +0000", "0.12")
    assert _binding(store, config, february_2022) == ["Jared Roesch", "Tianqi Chen"]
    assert _binding(store, config, june_2022) == ["Jared Roesch", "Masahiro Masuda", "Tianqi Chen"]
    assert _binding(store, config, march_2023) == ["Masahiro Masuda", "Tianqi Chen"]
    # The config stays the override: a member it names is taken from it.
    override = Config(
        roster=RosterConfig(members=[RosterMember(name="Masahiro Masuda", joined=date(2021, 1, 1))])
    )
    assert _binding(store, override, february_2022) == [
        "Jared Roesch",
        "Masahiro Masuda",
        "Tianqi Chen",
    ]


def test_imported_roster_links_count_only_confirmed(store: Store):
    import_roster(store, parse_contributors_md(CONTRIBUTORS, date(2024, 5, 1)), now=NOW)
    links = {(h.person, h.alias, h.state) for h in source_store.hints(store)}
    assert ("Tianqi Chen", "tqchen", "confirmed") in links
    assert ("Wuwei Lin", "vinx13", "confirmed") in links


def test_roster_import_and_show_from_the_command_line(tmp_path: Path):
    db = tmp_path / "q.db"
    info = tmp_path / "committee-info.json"
    info.write_text(json.dumps(COMMITTEE_INFO))
    missing = quorum("roster", "import", str(info), db=db)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        f"error: {info}: name the committee with --committee (e.g. tvm)"
    )
    done = quorum("roster", "import", str(info), "--committee", "tvm", db=db)
    assert done.returncode == 0, done.stderr
    assert "3 joined, 0 left since the last import" in done.stdout
    shown = quorum("roster", "show", "--as-of", "2022-02-01", "--json", db=db)
    assert json.loads(shown.stdout)["members"] == [
        {"name": "Jared Roesch", "from": "imported"},
        {"name": "Tianqi Chen", "from": "imported"},
    ]
    bad = tmp_path / "roster.csv"
    bad.write_text("who\nnobody\n")
    refused = quorum("roster", "import", str(bad), db=db)
    assert refused.returncode == 1
    assert "needs a 'name' column" in refused.stderr
    assert "Traceback" not in refused.stderr
