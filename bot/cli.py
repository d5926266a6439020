"""The `quorum` command line.

Errors a user can fix are printed as one clear message with a non-zero exit
status; a traceback here is always a bug.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.app import App
from bot.config import DEFAULT_DB, Config, load_config
from bot.errors import QuorumError
from bot.ingest import ImportReport, import_paths
from bot.model import ThreadKind
from bot.store import Store, ThreadSummary

logger = logging.getLogger(__name__)
# Data (subjects, names) is never rich markup; piped output gets a wide, stable layout.
out = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 160)


@dataclass(frozen=True, slots=True)
class Context:
    config_path: Path | None
    db_path: Path

    def config(self) -> Config:
        return load_config(self.config_path)


@contextmanager
def _store(ctx: Context) -> Iterator[Store]:
    store = Store.open(ctx.db_path)
    try:
        yield store
    finally:
        store.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="QUORUM_CONFIG",
    help="TOML config file (default: built-in defaults).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="QUORUM_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite database file.",
)
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.pass_context
def cli(click_ctx: click.Context, config_path: Path | None, db_path: Path, verbose: int) -> None:
    """Quorum: RFCs, votes, concerns and maintainers across a mailing list and a forum."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click_ctx.obj = Context(config_path, db_path)


@cli.command("check-config")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def check_config(ctx: Context, file: Path | None) -> None:
    """Validate a config file: exit 0 if it is good, 2 with the key path if not."""
    path = file or ctx.config_path
    if path is None:
        raise click.UsageError("name a config file: quorum check-config FILE")
    config = load_config(path)
    out.print(f"{path}: ok ({len(config.smtp.accept)} accepted address(es))")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), help="Parser processes (default: auto).")
@click.pass_obj
def import_command(ctx: Context, paths: tuple[Path, ...], workers: int | None) -> None:
    """Import mbox/mboxrd files (also .gz), .eml files and directories of them."""
    ctx.config()  # a bad config is reported before any work starts
    with _store(ctx) as store:
        report = _import_with_progress(store, list(paths), workers)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)


def _import_with_progress(store: Store, paths: list[Path], workers: int | None) -> ImportReport:
    if not sys.stderr.isatty():
        return import_paths(store, paths, workers=workers)
    columns = (SpinnerColumn(), TextColumn("{task.completed} messages"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("import", total=None)

        def advance(n: int) -> None:
            progress.advance(task, n)

        return import_paths(store, paths, on_progress=advance, workers=workers)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--kind", type=click.Choice([k.value for k in ThreadKind]), help="Only this kind.")
@click.pass_obj
def threads(ctx: Context, as_json: bool, kind: str | None) -> None:
    """One row per discussion thread, with linked votes and results."""
    with _store(ctx) as store:
        rows = store.threads(ThreadKind(kind) if kind else None)
    if as_json:
        click.echo(json.dumps([row.to_dict() for row in rows], indent=2, ensure_ascii=False))
        return
    _print_threads(rows)


def _print_threads(rows: list[ThreadSummary]) -> None:
    subjects = {row.key: row.subject for row in rows}
    table = Table(show_lines=False, pad_edge=False, box=None)
    for column in ("kind", "subject", "msgs", "people", "first", "last", "linked"):
        table.add_column(column, overflow="ellipsis", max_width=60)
    for row in rows:
        linked = ", ".join(subjects.get(k, k) for k in row.closed_by)
        if row.closes:
            linked = f"closes: {subjects.get(row.closes, row.closes)}"
        table.add_row(
            row.kind.value,
            row.subject,
            str(row.messages),
            str(len(row.participants)),
            row.first_at.strftime("%Y-%m-%d"),
            row.last_at.strftime("%Y-%m-%d"),
            linked,
        )
    out.print(table)
    out.print(f"{len(rows)} thread(s)")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def stats(ctx: Context, as_json: bool) -> None:
    """Counts of messages, threads and messages kept with defects."""
    with _store(ctx) as store:
        numbers: dict[str, Any] = store.stats()
        numbers["defect_kinds"] = store.defect_counts()
    if as_json:
        click.echo(json.dumps(numbers, indent=2))
        return
    for name, value in numbers.items():
        out.print(f"{name}: {value}")


@cli.command()
@click.pass_obj
def run(ctx: Context) -> None:
    """Serve: the SMTP endpoint and the worker, until SIGINT or SIGTERM."""
    config = ctx.config()
    asyncio.run(_serve(config, ctx.db_path))


async def _serve(config: Config, db_path: Path) -> None:
    app = App(config, db_path)
    endpoints = await app.start()
    try:
        report = await app.import_on_start()
        if report is not None:
            for error in report.errors:
                click.echo(f"error: {error}", err=True)
            out.print(f"imported {', '.join(config.imports.on_start)}: {report.summary()}")
            _print_threads(await app.db(lambda store: store.threads()))
        if endpoints.smtp:
            host, port = endpoints.smtp
            accepted = ", ".join(config.smtp.accept)
            out.print(f"SMTP endpoint listening on {host}:{port}, accepting mail for {accepted}")
        out.print(f"database: {db_path}; press Ctrl-C to stop")
        await app.wait_for_stop()
    finally:
        await app.stop()
        out.print("stopped cleanly")


def _fail(error: QuorumError) -> NoReturn:
    click.echo(f"error: {error}" if "\n" not in str(error) else str(error), err=True)
    sys.exit(error.exit_code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every QuorumError becomes a message and an exit status."""
    command: Callable[..., Any] = cli
    try:
        status = command.main(args=argv, prog_name="quorum", standalone_mode=False)
    except QuorumError as error:
        _fail(error)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except OSError as error:
        # e.g. the SMTP port is taken, or the database folder is not writable.
        click.echo(
            f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), err=True
        )
        sys.exit(1)
    if isinstance(status, int) and status:
        sys.exit(status)
