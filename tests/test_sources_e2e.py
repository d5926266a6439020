"""From nothing to the real history, as a user would: `quorum fetch` + `roster import` + `run`.

On a fake Pony Mail serving the real Maven dev@ archives of November and December
2017, the commands must give the same threads, votes and binding sets as importing
the same mbox files with the roster written by hand into the config.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from tests.fakes.ponymail import FakePonyMail
from tests.test_cli import _start_run, quorum

ROOT = Path(__file__).resolve().parent.parent
NOW = "2018-02-01"
# Maven's PMC as committee-info.json would list it (join dates made up for the test):
# Michael Osipov joins between the Doxia and the Doxia Sitetools votes, Manfred Moser later.
PMC = {
    "olamy": ("Olivier Lamy", "2007-03-01"),
    "hboutemy": ("Hervé Boutemy", "2008-02-01"),
    "aheritier": ("Arnaud Héritier", "2008-02-01"),
    "rfscholte": ("Robert Scholte", "2012-05-01"),
    "khmarbaise": ("Karl Heinz Marbaise", "2015-01-20"),
    "michaelo": ("Michael Osipov", "2017-12-20"),
    "mmoser": ("Manfred Moser", "2018-05-01"),
}


def _quorum(*args: str, db: Path, config: Path | None = None) -> str:
    options = ("--config", str(config)) if config is not None else ()
    result = quorum(*options, *args, db=db)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _run_briefly(config: Path, db: Path) -> str:
    """`quorum run` until it serves, then SIGTERM: what a user starts after the fetch."""
    process, _ = _start_run(config, db)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def _committee_info(path: Path) -> None:
    roster = {uid: {"name": name, "date": day} for uid, (name, day) in PMC.items()}
    path.write_text(
        json.dumps(
            {
                "last_updated": "2018-06-10 04:50:00 UTC",
                "committees": {
                    "maven": {
                        "display_name": "Maven",
                        "mail_list": "maven",
                        "established": "03/2003",
                        "chair": {"rfscholte": {"name": "Robert Scholte"}},
                        "roster": roster,
                        "pmc": True,
                    }
                },
            }
        ),
        encoding="utf-8",
    )


def _config(path: Path, *, hand_roster: bool) -> Path:
    lines = ['[project]\nlist_address = "dev@maven.apache.org"\n', "[smtp]\nport = 0\n"]
    lines.append('accept = ["dev@maven.apache.org"]\n[web]\nenabled = false\n')
    if hand_roster:
        # Names and join dates only, as a roster import knows them: the @apache.org ids
        # it adds identify their owners, but are not all of anyone's addresses, so both
        # count a member's vote from a personal address by name (README: Trust model).
        for name, day in PMC.values():
            lines.append(f'[[roster.members]]\nname = "{name}"\njoined = {day}\n')
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _votes(db: Path, config: Path) -> list[dict]:
    return json.loads(_quorum("votes", "--json", "--now", NOW, db=db, config=config))


def _ballots(votes: list[dict]) -> list[dict]:
    return [ballot for vote in votes for ballot in vote["ballots"]]


def _without_urls(value: object) -> object:
    """Everything but links and how each voter was recognised: the imported roster knows
    members' @apache.org addresses, a roster written by hand only their names."""
    if isinstance(value, dict):
        return {k: _without_urls(v) for k, v in value.items() if k not in ("url", "identity")}
    if isinstance(value, list) and value and isinstance(value[0], dict) and "kind" in value[0]:
        value = [flag for flag in value if flag["kind"] != "identity-by-name"]
    if isinstance(value, list):
        return [_without_urls(v) for v in value]
    return value


def _binding(vote: dict) -> list[str]:
    return sorted(b["voter"] for b in vote["ballots"] if b["binding"])


async def test_fetch_roster_import_and_run_give_what_import_and_a_hand_roster_give(
    tmp_path: Path, corpus: Path
):
    archives = [
        corpus / "mbox" / "maven-dev-2017-11.mbox",
        corpus / "mbox" / "maven-dev-2017-12.mbox",
    ]
    fake = FakePonyMail()
    for archive in archives:
        fake.add_mbox(archive, "dev@maven.apache.org")
    committee_info = tmp_path / "committee-info.json"
    _committee_info(committee_info)

    fetched_db, fetched_config = (
        tmp_path / "fetched.db",
        _config(tmp_path / "a.toml", hand_roster=False),
    )
    async with fake:
        fetch = await asyncio.to_thread(
            _quorum, "fetch", "ponymail", "dev@maven.apache.org", "--url", fake.base_url,
            "--since", "2017-11", "--until", "2017-12", db=fetched_db, config=fetched_config,
        )  # fmt: skip
    assert "2 month(s) fetched" in fetch
    assert "read 542, new 538, already known 4" in fetch
    imported = _quorum(
        "roster", "import", str(committee_info), db=fetched_db, config=fetched_config
    )
    assert "7 joined, 0 left" in imported  # the committee follows from dev@maven.apache.org
    served = _run_briefly(fetched_config, fetched_db)
    assert "stopped cleanly" in served

    imported_db, hand_config = (
        tmp_path / "imported.db",
        _config(tmp_path / "b.toml", hand_roster=True),
    )
    _quorum("import", *map(str, archives), db=imported_db)

    assert json.loads(_quorum("threads", "--json", db=fetched_db)) == json.loads(
        _quorum("threads", "--json", db=imported_db)
    )
    fetched_votes = _votes(fetched_db, fetched_config)
    by_hand = _votes(imported_db, hand_config)
    assert len(fetched_votes) == len(by_hand) == 9
    # The same votes, but each fetched ballot links to its mail in the archive.
    assert all(b["url"].startswith(f"{fake.base_url}/thread/") for b in _ballots(fetched_votes))
    assert all(b["url"] is None for b in _ballots(by_hand))
    assert _without_urls(fetched_votes) == _without_urls(by_hand)
    binding = {v["subject"]: _binding(v) for v in fetched_votes}
    assert binding["[VOTE] Release Maven Indexer 6.0.0"] == [
        "Hervé Boutemy",
        "Olivier Lamy",
        "Robert Scholte",
    ]
    # The roster as it stood when each vote opened: Osipov binds from December 20 on.
    osipov = {
        v["opened_at"][:10]: "Michael Osipov" in _binding(v)
        for v in fetched_votes
        if any(b["voter"] == "Michael Osipov" for b in v["ballots"])
    }
    assert osipov == {"2017-12-17": False, "2017-12-21": True, "2017-12-28": True}
    assert not any("Manfred Moser" in _binding(v) for v in fetched_votes)
