"""Logging for people (text) or for a log pipeline (`--log-format json`, one object a line).

A JSON line has fixed keys: ``ts`` (UTC, ISO 8601), ``level``, ``event`` (a
stable dotted name such as ``smtp.refused`` or ``outbox.sent``; ``log`` for a
line that has none), ``logger``, ``msg`` (the human sentence), then the event's
own fields (``message_key``, ``action_key``, ``source``, ``channel``, ``code``
...) and ``error`` with the traceback when there is one. README lists the events.

What never reaches a log line: secrets and mail bodies. Secrets are only read
from the environment, and every line is scrubbed of the values of the variables
that hold them (whatever logged them: an exception message that quotes a URL
with a token, say). Mail bodies are logged nowhere at info level; the dispatcher
shows a rendered message at debug level only.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "[redacted]"
# Environment variables whose names say they hold a secret, whatever the config names.
_SECRET_NAME_WORDS = ("TOKEN", "SECRET", "PASSWORD", "API_KEY", "APIKEY")
# Shorter values are not scrubbed: "1" or "true" would be replaced all over every line.
_MIN_SECRET_LENGTH = 6
_OURS = "_quorum_handler"


def event(name: str, **fields: Any) -> dict[str, Any]:
    """``extra=`` for a log call: its stable event name and fields.

    ``logger.info("sent %s", key, extra=event("outbox.sent", action_key=key))``
    """
    return {"event": name, "fields": fields}


class Secrets:
    """The values to scrub from every line: those of secret-holding environment variables."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names = set(names)

    def add(self, names: Iterable[str]) -> None:
        self._names.update(names)

    def values(self, environ: Mapping[str, str] | None = None) -> list[str]:
        env = os.environ if environ is None else environ
        names = self._names | {name for name in env if _looks_secret(name)}
        found = {env[name] for name in names if len(env.get(name, "")) >= _MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is scrubbed whole.
        return sorted(found, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for value in self.values():
            if value in text:
                text = text.replace(value, REDACTED)
        return text


def _looks_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in _SECRET_NAME_WORDS)


SECRETS = Secrets()


class TextFormatter(logging.Formatter):
    """The classic line, scrubbed of secrets."""

    def __init__(self, secrets: Secrets = SECRETS) -> None:
        super().__init__(TEXT_FORMAT)
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self._secrets.scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line, with the keys the module docstring names."""

    def __init__(self, secrets: Secrets = SECRETS) -> None:
        super().__init__()
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self._secrets.scrub(json.dumps(log_object(record), ensure_ascii=False, default=str))


def log_object(record: logging.LogRecord) -> dict[str, Any]:
    """The JSON object of one record, before secrets are scrubbed from its text."""
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    payload: dict[str, Any] = {
        "ts": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname.lower(),
        "event": getattr(record, "event", None) or "log",
        "logger": record.name,
        "msg": record.getMessage(),
    }
    fields = getattr(record, "fields", None)
    if isinstance(fields, Mapping):
        for key, value in fields.items():
            payload.setdefault(str(key), value)
    if record.exc_info:
        payload["error"] = logging.Formatter().formatException(record.exc_info)
    return payload


def configure(level: int, log_format: LogFormat = "text", stream: TextIO | None = None) -> None:
    """Log to stderr at ``level`` in ``log_format``; called once by the CLI.

    Like ``logging.basicConfig``, it leaves a root logger that someone else
    configured alone (a test runner's capture, an embedding program), apart from
    the level; calling it again replaces its own handler.
    """
    root = logging.getLogger()
    root.setLevel(level)
    foreign = [h for h in root.handlers if not getattr(h, _OURS, False)]
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
    if foreign:
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    setattr(handler, _OURS, True)
    root.addHandler(handler)


def secret_names(settings: object) -> set[str]:
    """Every environment variable a configuration names for a secret (``*_env`` keys)."""
    names: set[str] = set()
    _collect_env_names(settings, names, depth=0)
    return names


def _collect_env_names(value: object, names: set[str], depth: int) -> None:
    if depth > 6:
        return
    if isinstance(value, Mapping):
        for item in value.values():
            _collect_env_names(item, names, depth + 1)
        return
    fields = getattr(type(value), "model_fields", None)
    if not isinstance(fields, Mapping):
        return
    for field_name in fields:
        item = getattr(value, field_name, None)
        if field_name.endswith("_env") and isinstance(item, str) and item:
            names.add(item)
        else:
            _collect_env_names(item, names, depth + 1)
