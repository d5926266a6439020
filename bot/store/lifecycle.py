"""The store over its life: which version wrote it, backups, restores, one `quorum run` at a time.

- **Version guard.** Before migrating, :func:`refuse_if_newer` compares the
  migrations the store has with those this version knows. A store that a newer
  Quorum migrated has some this one does not; running on it would mean code
  reading tables it does not understand, so it stops with a message naming the
  version that wrote the store and what to do.
- **Backup** uses SQLite's online backup API in one step: the copy is one read
  transaction, so it is consistent while `quorum run` keeps writing (WAL lets
  the writer go on meanwhile). The copy is written beside its name and renamed
  into place, so a half-written backup never carries the final name.
- **Restore** refuses while a `quorum run` holds the store, keeps the current
  database aside, and copies the backup in through the same API.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlite_utils import Database, Migrations

from bot.errors import QuorumError, UserError
from bot.runlock import RunLock
from bot.runlock import StoreBusy as StoreBusy  # re-exported: restore raises it
from bot.version import version, version_key

MIGRATIONS_TABLE = "_sqlite_migrations"
SQLITE_VERSION = sqlite3.sqlite_version
WRITTEN_BY = "written_by"


class StoreTooNew(QuorumError):
    """The store was migrated by a newer Quorum. Its own exit status, so that a
    service manager can be told not to restart into the same refusal."""

    exit_code = 3


# -- the version guard ----------------------------------------------------------------------


@cache
def known_migrations() -> frozenset[tuple[str, str]]:
    """(set, name) of every migration this version has, in every module of ``bot.store``.

    Found by looking rather than listed by hand, so a new migration set is known
    the moment it exists.
    """
    known: set[tuple[str, str]] = set()
    empty = Database(memory=True)
    # This module's own package, found by path: importing it here would be a cycle.
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__package__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, Migrations):
                # Against an empty database every registered migration is pending.
                known.update((value.name, m.name) for m in value.pending(empty))
    empty.close()
    return frozenset(known)


def unknown_migrations(conn: sqlite3.Connection) -> list[str]:
    """Migrations applied to this store that this version does not have, as "set.name"."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if not exists:
        return []
    applied = conn.execute(
        f"SELECT migration_set, name FROM {MIGRATIONS_TABLE} ORDER BY id"  # noqa: S608
    ).fetchall()
    known = known_migrations()
    return [f"{set_name}.{name}" for set_name, name in applied if (set_name, name) not in known]


def written_by(conn: sqlite3.Connection) -> str | None:
    """The Quorum version that last opened the store for writing (None: before 0.1.0 kept it)."""
    try:
        row = conn.execute("SELECT value FROM store_meta WHERE key = ?", [WRITTEN_BY]).fetchone()
    except sqlite3.OperationalError:  # no store_meta table yet
        return None
    return str(row[0]) if row else None


def refuse_if_newer(conn: sqlite3.Connection, where: Path | str) -> None:
    """Raise :class:`StoreTooNew` if a newer Quorum migrated this store."""
    unknown = unknown_migrations(conn)
    if not unknown:
        return
    writer = written_by(conn)
    newer = f"a newer Quorum ({writer})" if writer else "a newer Quorum"
    shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
    raise StoreTooNew(
        f"{where} was written by {newer} than this one ({version()}): it has schema"
        f" changes this version does not know ({shown}). Nothing was changed. Run that"
        " version (or a later one), or `quorum restore` the backup taken before the upgrade."
    )


def record_writer(conn: sqlite3.Connection) -> None:
    """Note this version as the store's writer (only when it changes: no write otherwise)."""
    mine = version()
    if written_by(conn) == mine:
        return
    with conn:
        conn.execute(
            "INSERT INTO store_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [WRITTEN_BY, mine],
        )


def is_older_writer(conn: sqlite3.Connection) -> bool:
    """Whether the store was last written by an older version than this one (an upgrade)."""
    writer = written_by(conn)
    return writer is not None and version_key(writer) < version_key(version())


# -- one `quorum run` per store ------------------------------------------------------------


@contextmanager
def exclusive(db_path: Path, doing: str) -> Iterator[None]:
    """Hold the store's lock file while ``doing`` ("quorum run", "a restore")."""
    if str(db_path) == ":memory:":
        yield
        return
    with RunLock(db_path, doing):
        yield


# -- backup and restore --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contents:
    """What a store holds, for the one line backup and restore print."""

    messages: int
    pending: int
    actions: int
    size_bytes: int

    def summary(self) -> str:
        mib = self.size_bytes / (1024 * 1024)
        return (
            f"{self.messages} messages, {self.pending} accepted but not processed yet,"
            f" {self.actions} outbox actions ({mib:.1f} MiB)"
        )


def _contents(conn: sqlite3.Connection, path: Path) -> Contents:
    def count(table: str) -> int:
        try:
            return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
        except sqlite3.OperationalError:  # a table an older store does not have yet
            return 0

    return Contents(count("posts"), count("inbox"), count("actions"), path.stat().st_size)


def _open_existing(path: Path, what: str) -> sqlite3.Connection:
    """A read-only connection to a Quorum store, or one clear error saying what is wrong."""
    if not path.is_file():
        raise UserError(f"{path}: no {what} here")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        conn.close()
        raise UserError(f"{path}: not a SQLite database ({error})") from None
    if not {"posts", MIGRATIONS_TABLE} <= tables:
        conn.close()
        raise UserError(f"{path}: a SQLite database, but not a Quorum store")
    return conn


def backup(db_path: Path, target: Path, now: datetime | None = None) -> tuple[Path, Contents]:
    """Copy the store to ``target`` (a file, or a folder for a dated file) while it runs.

    Returns where the copy went and what it holds; raises UserError for a
    missing store, an existing target, or a copy that fails its integrity check.
    """
    moment = now or datetime.now(UTC)
    if target.is_dir():
        target = target / f"quorum-{moment:%Y%m%dT%H%M%SZ}.db"
    if target.exists():
        raise UserError(f"{target} exists; name a new file (backups never overwrite)")
    partial = target.with_name(target.name + ".partial")
    with closing(_open_existing(db_path, "Quorum database (see --db)")) as source:
        partial.unlink(missing_ok=True)
        try:
            with closing(sqlite3.connect(partial)) as copy:
                # One step (pages=-1): one read transaction, so one consistent state.
                source.backup(copy, pages=-1)
                # A single self-contained file: no -wal beside it to forget.
                copy.execute("PRAGMA journal_mode=DELETE")
                _check_integrity(copy, target)
                contents = _contents(copy, partial)
            _fsync(partial)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    _fsync(target.parent)
    return target, contents


def restore(
    backup_path: Path, db_path: Path, now: datetime | None = None
) -> tuple[Contents, Path | None]:
    """Replace the store at ``db_path`` with a backup; returns what it holds now and where
    the previous database was kept (None when there was none).

    Refuses while `quorum run` uses the store, and refuses a backup that a newer
    Quorum wrote. The restored store is migrated to this version when next opened.
    """
    moment = now or datetime.now(UTC)
    with closing(_open_existing(backup_path, "backup")) as source:
        _check_integrity(source, backup_path)
        refuse_if_newer(source, backup_path)
        with exclusive(db_path, "a restore"):
            kept = _keep_aside(db_path, moment)
            db_path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(db_path, timeout=30)) as live:
                # Through SQLite, not a file copy: a -wal left by the old database must
                # never be replayed onto the restored one.
                source.backup(live, pages=-1)
                live.execute("PRAGMA journal_mode=WAL")
                _check_integrity(live, db_path)
                contents = _contents(live, db_path)
    return contents, kept


def _keep_aside(db_path: Path, moment: datetime) -> Path | None:
    """The current database, copied beside itself before a restore replaces it."""
    if not db_path.exists():
        return None
    aside = db_path.with_name(f"{db_path.name}.before-restore-{moment:%Y%m%dT%H%M%SZ}")
    backup(db_path, aside, moment)
    return aside


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise UserError(f"{path}: failed SQLite's integrity check: {'; '.join(problems[:3])}")


def _fsync(path: Path) -> None:
    """Make a rename or a new file durable (a folder is synced to keep its entry)."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    with suppress(OSError):
        descriptor = os.open(path, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
