"""`--log-format json`: one JSON object a line with stable event names and fields,
never a secret and never a mail body. The bot runs as its own process and gets
real SMTP; its stderr is read line by line, as a log shipper reads it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.logs import REDACTED, JsonFormatter, Secrets, TextFormatter, event, secret_names

ROOT = Path(__file__).resolve().parent.parent
LIST = "dev@lists.example.org"
BODY_MARKER = "PRIVATE-BODY-7f3a9c: this sentence must never reach a log line"
WEB_TOKEN = "web-token-0123456789abcdef"
CHAT_CREDENTIAL = "xoxb-chat-credential-0123456789"
REQUIRED_KEYS = ("ts", "level", "event", "logger", "msg")
WAIT_S = 60
QUORUM = [sys.executable, "-m", "bot"]


class LogReader:
    """The bot's stderr, one parsed line at a time, read by a thread of its own."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(process.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line)

    def until(self, name: str, **fields: Any) -> dict[str, Any]:
        """The next line of event ``name`` with these fields; every line read is kept."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            self.lines.append(line)
            entry = json.loads(line)
            if entry["event"] == name and all(entry.get(k) == v for k, v in fields.items()):
                return entry
        raise AssertionError(f"no {name} {fields} within {WAIT_S} s; read: {self.lines}")

    def rest(self) -> None:
        self._thread.join(WAIT_S)
        while not self._queue.empty():
            self.lines.append(self._queue.get())


def _deliver(port: int) -> None:
    raw = (
        f"From: Alice <alice@example.org>\r\nTo: {LIST}\r\nSubject: [RFC] Logging\r\n"
        f"Message-ID: <logs-1@example.org>\r\n\r\n{BODY_MARKER}\r\n"
    ).encode()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("tester.example")
        client.mail("alice@example.org")
        assert client.rcpt("stranger@elsewhere.example")[0] == 550
        assert client.rcpt(LIST)[0] == 250
        assert client.data(raw)[0] == 250


def test_json_logs_of_a_running_bot_name_their_events_and_hide_bodies(tmp_path: Path):
    config = tmp_path / "quorum.toml"
    config.write_text(
        f'[smtp]\nport = 0\naccept = ["{LIST}"]\n[web]\nenabled = false\n'
        '[slack]\ntoken_env = "QUORUM_TEST_CHAT"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "QUORUM_WEB_TOKEN": WEB_TOKEN,
        "QUORUM_TEST_CHAT": CHAT_CREDENTIAL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "--log-format",
            "json",
            "--config",
            str(config),
            "--db",
            str(tmp_path / "q.db"),
            "run",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    log = LogReader(process)
    try:
        listening = log.until("app.listening", source="smtp")
        port = int(listening["address"].rsplit(":", 1)[1])
        log.until("app.started")
        _deliver(port)
        refused = log.until("smtp.refused", code="550")
        processed = log.until("inbox.processed")
    finally:
        process.send_signal(signal.SIGTERM)
        # Not communicate(): it would read stderr too, racing the log reader for its lines.
        process.wait(timeout=WAIT_S)
    log.rest()
    assert process.stdout is not None
    assert process.stderr is not None
    stdout = process.stdout.read()
    process.stdout.close()
    process.stderr.close()

    assert process.returncode == 0
    assert stdout == ""  # nothing for people on stdout: the log is the whole story
    entries = [json.loads(line) for line in log.lines]
    for entry in entries:
        assert all(key in entry for key in REQUIRED_KEYS), entry
        assert entry["ts"].endswith("Z")
    assert entries[-1]["event"] == "app.stopped"
    assert refused["recipient"] == "stranger@elsewhere.example"
    assert refused["level"] == "info"
    assert refused["logger"] == "bot.adapters.smtp"
    assert (processed["read"], processed["new"]) == (1, 1)
    everything = "".join(log.lines)
    assert BODY_MARKER not in everything
    assert WEB_TOKEN not in everything
    assert CHAT_CREDENTIAL not in everything


def _record(message: str, *args: Any, **extra: Any) -> logging.LogRecord:
    logger = logging.getLogger("bot.test")
    return logger.makeRecord(
        "bot.test", logging.INFO, __file__, 1, message, args, None, extra=extra
    )


def test_a_json_line_has_fixed_keys_then_the_event_fields():
    record = _record(
        "sent %s via %s",
        "reply:<a@example.org>",
        "mail",
        **event("outbox.sent", action_key="reply:<a@example.org>", channel="mail"),
    )
    entry = json.loads(JsonFormatter(Secrets()).format(record))
    assert list(entry)[:5] == list(REQUIRED_KEYS)
    assert entry["event"] == "outbox.sent"
    assert entry["msg"] == "sent reply:<a@example.org> via mail"
    assert entry["action_key"] == "reply:<a@example.org>"
    assert entry["channel"] == "mail"
    # A field never overwrites a fixed key.
    clash = _record("x", **event("smtp.refused", level="fake", msg="fake"))
    assert json.loads(JsonFormatter(Secrets()).format(clash))["msg"] == "x"
    assert json.loads(JsonFormatter(Secrets()).format(_record("plain")))["event"] == "log"


def test_secrets_are_scrubbed_from_every_line_and_traceback():
    environ = {"SOME_API_TOKEN": "tok-1234567890", "MY_CHAT": "chat-0987654321", "SHORT": "1"}
    secrets = Secrets(["MY_CHAT"])
    assert sorted(secrets.values(environ)) == ["chat-0987654321", "tok-1234567890"]
    os.environ.update(environ)
    try:
        try:
            raise RuntimeError("GET https://chat.example/api?token=chat-0987654321 failed")
        except RuntimeError:
            record = _record("calling with tok-1234567890")
            record.exc_info = sys.exc_info()
        as_json = JsonFormatter(secrets).format(record)
        as_text = TextFormatter(secrets).format(record)
    finally:
        for name in environ:
            os.environ.pop(name, None)
    for line in (as_json, as_text):
        assert "tok-1234567890" not in line
        assert "chat-0987654321" not in line
        assert REDACTED in line


def test_every_secret_variable_the_config_names_is_known():
    config = Config.model_validate(
        {
            "slack": {"token_env": "MY_CHAT"},
            "mail_out": {"password_env": "MAIL_PASS"},
            "web": {"metrics_token_env": "SCRAPE"},
        }
    )
    names = secret_names(config)
    assert {"MY_CHAT", "MAIL_PASS", "SCRAPE", "QUORUM_WEB_TOKEN"} <= names
