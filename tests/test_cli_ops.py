"""The command line for operators: `--json` on every reading command, and shell completion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.stores import sample_store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "example.toml"
# Every command that reads the store and prints what it found.
READING = ("threads", "stats", "votes", "concerns", "summary", "modules", "digest", "log")
NOW = "2026-11-24 12:00:00"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_store(tmp_path_factory.mktemp("cli-ops") / "quorum.db")


def test_every_reading_command_has_json():
    missing = [name for name in READING if "--json" not in _options(name)]
    assert missing == []


def _options(name: str) -> set[str]:
    command = cli.commands[name]
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def _cli(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(EXAMPLE), "--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", ["votes", "concerns", "modules", "digest", "attention"])
def test_every_now_option_reads_the_instant_run_and_tick_take(sample_db: Path, command: str):
    # `make run` passes "--now 2026-12-02T09:00Z"; a reader pasting it into another
    # command must get the same instant, not "does not match the formats".
    written = json.loads(_cli(sample_db, command, "--json", "--now", "2026-11-24T12:00Z"))
    assert written == json.loads(_cli(sample_db, command, "--json", "--now", NOW))


def test_digest_json_has_the_sections_the_digest_prints(sample_db: Path):
    digest = json.loads(_cli(sample_db, "digest", "--json", "--now", NOW))
    text = _cli(sample_db, "digest", "--now", NOW)
    assert list(digest) == [
        "now",
        "attention",
        "discussions",
        "open_votes",
        "recent_results",
        "overdue",
        "modules",
        "flags",
    ]
    assert f"Needs a person now ({digest['attention']['count']})" in text
    assert f"Discussions with open concerns ({len(digest['discussions'])})" in text
    assert f"Overdue answers by module ({len(digest['overdue'])})" in text
    assert digest["overdue"], "the sample has an unanswered question to the indexer maintainers"
    for discussion in digest["discussions"]:
        assert discussion["subject"] in text
        assert all(c["state"] in ("open", "answered") for c in discussion["concerns"])
    votes = {v["thread"]: v for v in json.loads(_cli(sample_db, "votes", "--json", "--now", NOW))}
    for vote in digest["open_votes"] + digest["recent_results"]:
        assert votes[vote["thread"]]["state"] == vote["state"]


def test_bash_completion_is_generated_and_completes_commands_and_choices():
    env = {**os.environ, "_QUORUM_COMPLETE": "bash_source"}
    script = _quorum(env)
    assert "_quorum_completion()" in script
    assert "complete -o nosort -F _quorum_completion quorum" in script

    words = {**os.environ, "_QUORUM_COMPLETE": "bash_complete", "COMP_CWORD": "1"}
    commands = _quorum({**words, "COMP_WORDS": "quorum re"})
    assert commands.split() == ["plain,resolve", "plain,restore"]
    formats = _quorum({**words, "COMP_WORDS": "quorum --log-format ", "COMP_CWORD": "2"})
    assert formats.split() == ["plain,text", "plain,json"]


def _quorum(env: dict[str, str]) -> str:
    # The installed entry point, as a shell calls it: completion needs prog name "quorum".
    quorum = Path(sys.executable).parent / "quorum"
    result = subprocess.run(
        [str(quorum)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_concerns_table_names_each_answerer_once(tmp_path: Path):
    # Priya answers Tomasz's point twice: the "answered by" column names her once.
    from tests.mailgen import raw_mail

    mails = [
        raw_mail(
            "I propose to make TOML the default config format in 3.0.",
            subject="[DISCUSS] TOML by default",
            message_id="<root@x.example>",
            sender="Priya Raghunathan <priya@example.org>",
            date="Mon, 02 Nov 2026 10:00:00 +0000",
        ),
        raw_mail(
            "I am worried that every plugin that writes its own XML settings breaks.",
            subject="Re: [DISCUSS] TOML by default",
            message_id="<worry@x.example>",
            sender="Tomasz Wilk <tomasz@example.org>",
            date="Mon, 02 Nov 2026 11:00:00 +0000",
            extra="In-Reply-To: <root@x.example>\nReferences: <root@x.example>",
        ),
        raw_mail(
            "> every plugin that writes its own XML settings breaks.\n\n"
            "The loader keeps reading XML for two releases.",
            subject="Re: [DISCUSS] TOML by default",
            message_id="<answer1@x.example>",
            sender="Priya Raghunathan <priya@example.org>",
            date="Mon, 02 Nov 2026 12:00:00 +0000",
            extra="In-Reply-To: <worry@x.example>\nReferences: <root@x.example> <worry@x.example>",
        ),
        raw_mail(
            "> every plugin that writes its own XML settings breaks.\n\n"
            "And the converter rewrites plugin settings too.",
            subject="Re: [DISCUSS] TOML by default",
            message_id="<answer2@x.example>",
            sender="Priya Raghunathan <priya@example.org>",
            date="Mon, 02 Nov 2026 13:00:00 +0000",
            extra="In-Reply-To: <worry@x.example>\nReferences: <root@x.example> <worry@x.example>",
        ),
    ]
    paths = []
    for number, mail in enumerate(mails):
        paths.append(tmp_path / f"{number}.eml")
        paths[-1].write_bytes(mail)
    db = tmp_path / "quorum.db"
    _cli(db, "import", *map(str, paths))
    [row] = json.loads(_cli(db, "concerns", "--json", "--now", NOW))
    assert [ref["author"] for ref in row["answered_by"]] == ["Priya Raghunathan"] * 2
    table = _cli(db, "concerns", "--now", NOW)
    assert "Priya Raghunathan" in table
    assert "Priya Raghunathan, Priya" not in table
