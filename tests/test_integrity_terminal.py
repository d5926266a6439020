"""Terminal safety: escape sequences, NULs and bidi overrides from mail never reach the
terminal raw through any CLI table or plain-text output; they are shown as escapes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.model import Action
from bot.store import Store
from bot.store.outbox import Outbox
from bot.terminal import safe_json, safe_text
from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "example.toml"
ESC = "\x1b"
# Clear the screen, write the clipboard (OSC 52), a hidden link (OSC 8), a bidi override.
CLEAR, CLIPBOARD = f"{ESC}[2J", f"{ESC}]52;c;ZXZpbA=={ESC}\\"
LINK = f"{ESC}]8;;http://evil.example{ESC}\\click{ESC}]8;;{ESC}\\"
# What a terminal acts on: C0 controls but tab and newline, DEL, C1, bidi controls.
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def _mails() -> list[bytes]:
    vote = f"[VOTE] Release {CLEAR}{CLIPBOARD} 1.0 \u202eevil\u202c"
    return [
        raw_mail(
            "Vote for 72 hours.\n",
            subject=vote,
            message_id="<vote@x.example>",
            sender=f"Eve {ESC}[31mRed <eve@example.org>",
            date="Mon, 02 Nov 2026 10:00:00 +0000",
        ),
        raw_mail(
            f"+1 (binding) {ESC}[1A{ESC}[2K overwritten\n",
            subject=f"Re: {vote}",
            message_id="<ballot@x.example>",
            sender="Bob\x07 <bob@example.org>",
            date="Mon, 02 Nov 2026 11:00:00 +0000",
            extra="In-Reply-To: <vote@x.example>\nReferences: <vote@x.example>",
        ),
        raw_mail(
            f"I propose to reindex {LINK} on upgrade.\n",
            subject=f"[RFC] [indexer] Reindexing {ESC}[5mnow",
            message_id="<rfc@x.example>",
            sender="Frank Fischer <frank@example.com>",
            date="Mon, 02 Nov 2026 12:00:00 +0000",
        ),
        raw_mail(
            f"@quorum concern upgrade: the reindex {ESC}[8mhides\x00 data\n",
            subject=f"Re: [RFC] [indexer] Reindexing {ESC}[5mnow",
            message_id="<concern@x.example>",
            sender=f"Mallory {CLEAR} <mallory@example.org>",
            date="Mon, 02 Nov 2026 13:00:00 +0000",
            extra="In-Reply-To: <rfc@x.example>\nReferences: <rfc@x.example>",
        ),
    ]


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("terminal")
    archive = folder / "hostile.mbox"
    archive.write_bytes(
        b"".join(b"From x@y Mon Nov  2 09:14:00 2026\n" + mail + b"\n" for mail in _mails())
    )
    db = folder / "q.db"
    imported = _quorum("import", str(archive), db=db)
    assert imported.stdout.startswith("read 4, new 4"), imported.stderr
    store = Store.open(db)
    try:
        reason = f"because {CLEAR} and {LINK}"
        action = Action("reply", "<concern@x.example>", "text", f"reply:{ESC}[2J", reason=reason)
        Outbox(store).record(action, datetime(2026, 11, 3, tzinfo=UTC))
    finally:
        store.close()
    return db


def _quorum(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(CONFIG), "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    "command",
    [
        ["threads"],
        ["votes", "--now", "2026-11-03"],
        ["votes", "Release", "--now", "2026-11-03"],
        ["votes", "--draft-result", "Release", "--now", "2026-11-03"],
        ["concerns", "--now", "2026-11-03"],
        ["summary", "Reindexing", "--now", "2026-11-03"],
        ["summary", "Reindexing", "--now", "2026-11-03", "--json"],
        ["digest", "--now", "2026-11-24"],
        ["modules", "--now", "2026-11-24"],
        ["log"],
        ["log", "--json"],
        ["threads", "--json"],
    ],
)
def test_control_characters_from_mail_are_shown_never_sent_raw(
    hostile_db: Path, command: list[str]
):
    result = _quorum(*command, db=hostile_db)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert RAW_CONTROL.findall(output) == []
    # The hostile text is there, shown: the test sees what it is about.
    assert "\\x1b[" in output or "\\u001b[" in output
    if "--json" in command:
        json.loads(result.stdout)  # still valid JSON


def test_an_error_naming_a_hostile_subject_is_shown_safely(hostile_db: Path):
    result = _quorum("summary", "no such thread \x1b[2J", db=hostile_db)
    assert result.returncode != 0
    assert RAW_CONTROL.findall(result.stderr) == []
    assert "\\x1b[2J" in result.stderr


def test_safe_text_keeps_line_breaks_tabs_and_ordinary_unicode():
    text = "Jürgen\tMüller\nنام‌خانوادگی 👩‍💻"  # a Persian ZWNJ and an emoji ZWJ stay as they are
    assert safe_text(text) == text
    assert safe_text(f"a{ESC}[2Jb\x00c\u202ed\x9be") == "a\\x1b[2Jb\\x00c\\u202ed\\x9be"
    assert json.loads(safe_json(json.dumps("x\x9by\u202ez", ensure_ascii=False))) == "x\x9by\u202ez"
