"""The `quorum` command line.

Errors a user can fix are printed as one clear message with a non-zero exit
status; a traceback here is always a bug.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot import logs
from bot.cli_sources import register as register_source_commands
from bot.config import DEFAULT_DB, Config, load_config
from bot.core.people import Via
from bot.core.reminders import format_duration
from bot.core.rfcs import human_duration
from bot.core.votes import Ballot, VoteReport, forecast
from bot.core.votes.trust import VIA_WORDS, provenance
from bot.errors import QuorumError, UserError
from bot.features import views
from bot.features.attention import attention
from bot.features.concerns import find_thread, ledger_of, ledgers, render_summary, summary_of
from bot.features.digest import build_digest, render_digest
from bot.features.links import archive_problem, link_of
from bot.features.module_views import current_evaluation
from bot.features.reminders import evaluate_modules, module_dict
from bot.features.votes import draft_result, vote_report, vote_reports
from bot.ingest import SHARED_COMMIT_MESSAGES, ImportReport, import_paths
from bot.model import Thread, ThreadKind
from bot.runlock import running_server
from bot.store import Store, lifecycle, store_errors
from bot.store import forum as forum_store
from bot.store import views as stored_views
from bot.store.outbox import Outbox, Status
from bot.terminal import safe_json, safe_text
from bot.version import version_text

# The server's stack (aiohttp, slack-sdk, APScheduler, aiosmtpd, the dashboard) is
# imported by the commands that run it, not by every command: `quorum votes`, `--help`
# and the shell's completion start 0.7 s sooner without it.
if TYPE_CHECKING:
    from bot.dispatch import DispatchReport
    from bot.tick import TickReport

logger = logging.getLogger(__name__)
BACKUP_NICENESS = 10
_PAGE = "Which page of --limit rows."
# --now for the commands that simulate time: "2026-11-20T09:00Z" as well as click's forms.
_INSTANTS = ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
             "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")  # fmt: skip
# The reading commands' --now: one set of instants everywhere, as `run` and `tick` take.
_evaluate_at = click.option(
    "--now", type=click.DateTime(formats=_INSTANTS), help="Evaluate as of this time (UTC)."
)


class _SafeConsole(Console):
    """Prints text from mail with its control characters shown, never obeyed."""

    def print(self, *objects: Any, **options: Any) -> None:
        super().print(*(safe_text(o) if isinstance(o, str) else o for o in objects), **options)


class _SafeTable(Table):
    """A table whose cells are text from mail: shown safely (see bot.terminal)."""

    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(safe_text(c) if isinstance(c, str) else c for c in cells), **options)


# Data (subjects, names) is never rich markup; piped output gets a wide, stable layout.
out = _SafeConsole(
    highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 160
)


def _echo(text: str, *, nl: bool = True) -> None:
    """Plain text with mail in it (a summary, the digest): control characters shown."""
    click.echo(safe_text(text), nl=nl)


def _echo_json(data: Any, **options: Any) -> None:
    click.echo(safe_json(json.dumps(data, indent=2, ensure_ascii=False, **options)))


@dataclass(frozen=True, slots=True)
class Context:
    config_path: Path | None
    db_path: Path
    # Read and validated before any command runs: a missing or bad file stops every one.
    loaded: Config
    log_format: logs.LogFormat = "text"

    def config(self) -> Config:
        # Variables the config names for secrets are scrubbed from every log line.
        logs.SECRETS.add(logs.secret_names(self.loaded))
        return self.loaded


@contextmanager
def _store(ctx: Context, *, create: bool = False) -> Iterator[Store]:
    """The database, opened for a command; any SQLite failure becomes one clear line.

    Only ``import`` and ``run`` (``create``) make a new database; reading commands
    name a path with none rather than print an empty result from a new, empty one.
    """
    path = database_path(ctx.db_path, create=create)
    store = Store.open(path)
    try:
        with store_errors(path):
            yield store
    finally:
        store.close()


def database_path(path: Path, *, create: bool) -> Path:
    """``path`` if a command may open it; else :class:`UserError` saying why not.

    Directories are never made on a guess: only the default ``var/`` folder is
    created; a ``--db`` in a folder that does not exist is an error.
    """
    if path.is_dir():
        raise UserError(f"--db {path} is a directory; name a database file")
    if not path.parent.exists():
        if not (create and path == DEFAULT_DB):
            raise UserError(
                f"--db {path}: the folder {path.parent} does not exist; create it first,"
                " or choose another --db"
            )
        path.parent.mkdir(parents=True)
    if not create and not path.exists():
        raise UserError(
            f"no database at {path}: `quorum import` or `quorum run` creates one"
            " (or choose another --db)"
        )
    return path


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
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    envvar="QUORUM_LOG_FORMAT",
    default="text",
    show_default=True,
    help="Log lines for people, or one JSON object a line for a log pipeline.",
)
@click.version_option(version_text(lifecycle.SQLITE_VERSION), message="%(version)s")
@click.pass_context
def cli(
    click_ctx: click.Context,
    config_path: Path | None,
    db_path: Path,
    verbose: int,
    log_format: logs.LogFormat,
) -> None:
    """Quorum: RFCs, votes, concerns and maintainers across a mailing list and a forum."""
    # A log pipeline wants the events (info); a person at a terminal, warnings only.
    quietest = logging.INFO if log_format == "json" else logging.WARNING
    level = quietest - 10 * min(verbose, 2 if log_format == "text" else 1)
    logs.configure(level, log_format)
    click_ctx.obj = Context(config_path, db_path, load_config(config_path), log_format)


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
    # Valid, but posts will be named instead of linked: part of the report, on stdout
    # (stderr carries log lines only, JSON ones under --log-format json).
    problem = archive_problem(config)
    if problem is not None:
        out.print(f"warning: {problem}")


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), help="Parser processes (default: auto).")
@click.pass_obj
def import_command(ctx: Context, paths: tuple[Path, ...], workers: int | None) -> None:
    """Import mbox/mboxrd files (also .gz), .eml files and directories of them.

    Always ends with the summary line, also when it stops early (Ctrl-C, a busy or
    broken database): what it says was stored is stored, and importing the same
    files again adds only what is missing.
    """
    report = ImportReport()
    server = running_server(ctx.db_path)
    stopped: QuorumError | None = None
    status = 0
    # A wrong --db or a database that will not open is one line, before any work.
    with _store(ctx, create=True) as store:
        try:
            with store_errors(ctx.db_path):
                _import_with_progress(store, list(paths), workers, report, beside_server=server)
        except KeyboardInterrupt:
            stopped, status = UserError("interrupted"), 130
        except QuorumError as error:
            stopped, status = error, error.exit_code
    for problem in report.errors:
        click.echo(f"error: {safe_text(problem)}", err=True)
    click.echo(report.summary())
    if stopped is not None:
        click.echo(
            f"error: import stopped: {safe_text(str(stopped))}; what the line above counts is"
            " stored, and importing the same files again adds only what is missing",
            err=True,
        )
        sys.exit(status)
    if report.errors:
        sys.exit(1)


def _import_with_progress(
    store: Store,
    paths: list[Path],
    workers: int | None,
    report: ImportReport,
    *,
    beside_server: int | None,
) -> None:
    # Beside a running `quorum run`, commit often: its deliveries wait for our commits.
    commit_every = SHARED_COMMIT_MESSAGES if beside_server else None
    if not sys.stderr.isatty():
        import_paths(store, paths, workers=workers, report=report, commit_every=commit_every)
        return
    columns = (SpinnerColumn(), TextColumn("{task.completed} messages"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("import", total=None)

        def advance(n: int) -> None:
            progress.advance(task, n)

        import_paths(
            store,
            paths,
            on_progress=advance,
            workers=workers,
            report=report,
            commit_every=commit_every,
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--kind", type=click.Choice([k.value for k in ThreadKind]), help="Only this kind.")
@click.pass_obj
def threads(ctx: Context, as_json: bool, kind: str | None) -> None:
    """One row per discussion thread, with linked votes and results."""
    with _store(ctx) as store:
        rows = store.threads(ThreadKind(kind) if kind else None)
    if as_json:
        _echo_json([row.to_dict() for row in rows])
        return
    _print_threads(rows)


def _print_threads(rows: list[Thread]) -> None:
    subjects = {row.key: row.subject for row in rows}
    table = _SafeTable(show_lines=False, pad_edge=False, box=None)
    for column in ("kind", "subject", "msgs", "people", "first", "last", "linked"):
        table.add_column(column, overflow="ellipsis", max_width=60)
    for row in rows:
        linked = ", ".join(subjects.get(k, k) for k in row.closed_by)
        if row.closes:
            linked = f"closes: {subjects.get(row.closes, row.closes)}"
        elif row.rfc and row.rfc != row.key:
            linked = f"part of RFC: {subjects.get(row.rfc, row.rfc)}"
        elif row.rfc:
            linked = "RFC across channels"
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
@click.argument("thread", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--draft-result", "draft", is_flag=True, help="Print a [RESULT] mail for THREAD.")
@_evaluate_at
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (a page).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help=_PAGE)
@click.pass_obj
def votes(
    ctx: Context,
    thread: str | None,
    as_json: bool,
    draft: bool,
    now: datetime | None,
    limit: int | None,
    page: int,
) -> None:
    """Tally every [VOTE] thread (or THREAD: a Message-ID or part of the subject).

    The list reads the stored vote reports, brought up to date first with what changed
    since (README: "Derived state"); with --now, every vote is tallied as of that time.
    """
    config = ctx.config()
    moment = _moment(now)
    if draft and thread is None:
        raise click.UsageError("--draft-result needs a THREAD")
    with _store(ctx) as store:
        if thread is not None:
            report = vote_report(store, config, thread, moment)
        elif now is not None:
            rows = [r.to_dict() for r in vote_reports(store, config, moment)]
        else:
            views.catch_up(store, config, moment)
            rows = stored_views.vote_payloads(store, **_paging(limit, page))
    if thread is not None and draft:
        _echo(draft_result(report, config), nl=False)
    elif thread is not None and as_json:
        _echo_json([report.to_dict()])
    elif thread is not None:
        _print_vote_detail(report)
    elif as_json:
        _echo_json(rows)
    else:
        _print_votes(rows)


class _Paging(TypedDict):
    """One page of a stored list, as the store's *_payloads functions take it."""

    limit: int | None
    offset: int


def _paging(limit: int | None, page: int) -> _Paging:
    return {"limit": limit, "offset": (page - 1) * limit if limit else 0}


def _print_votes(rows: list[dict[str, Any]]) -> None:
    table = _SafeTable(pad_edge=False, box=None)
    for column in ("state", "subject", "+1", "0", "-1", "binding +1/-1", "rule", "RESULT"):
        table.add_column(column, overflow="ellipsis", max_width=60)
    for row in rows:
        tally = row["tally"]
        binding = (
            "unknown"
            if row["binding_unknown"]
            else f"{tally['binding_plus']}/{tally['binding_minus']}"
        )
        table.add_row(
            _row_state_text(row),
            row["subject"],
            str(tally["plus"]),
            str(tally["zero"]),
            str(tally["minus"]),
            binding,
            row["rule"],
            _agreement_text(row["agrees_with_announced"], row["result_post"]),
        )
    out.print(table)
    out.print(f"{len(rows)} vote(s)")


def _row_state_text(row: dict[str, Any]) -> str:
    if row["state"] != "open":
        return str(row["state"])
    verdict = f"would {forecast(row['would_pass_now'])}"
    hours = int((row["time_left_seconds"] or 0) // 3600)
    return f"open, {verdict}, {hours} h left"


def _state_text(report: VoteReport) -> str:
    if report.state.value != "open":
        return report.state.value
    verdict = f"would {forecast(report.would_pass_now)}"
    hours = int(report.time_left.total_seconds() // 3600) if report.time_left else 0
    return f"open, {verdict}, {hours} h left"


def _agreement_text(agrees: bool | None, result_post: str | None) -> str:
    """A RESULT that announces neither an outcome nor a count is "not checked"; no RESULT
    at all is "-"."""
    if agrees is None:
        return "not checked" if result_post else "-"
    return "agrees" if agrees else "DISAGREES"


def _print_vote_detail(report: VoteReport) -> None:
    out.print(f"{report.subject}\n  thread {report.thread}")
    out.print(f"  state: {_state_text(report)}; rule: {report.rule.value}")
    # Why, as the dashboard's vote page says it: "fails: 4 potentially binding +1 (the
    # call asks for 5)".
    verdict = "passes" if report.outcome.passes else "fails"
    out.print(f"  counted: {verdict}: {'; '.join(report.outcome.reasons)}", markup=False)
    if report.call_missing:
        out.print(f"  opened before {report.opened_at:%Y-%m-%d %H:%M} UTC (its call is not stored)")
    else:
        opened, closes = f"{report.opened_at:%Y-%m-%d %H:%M}", f"{report.closes_at:%Y-%m-%d %H:%M}"
        out.print(f"  opened {opened}, closes {closes} UTC")
    for ballot in report.ballots:
        binding = {True: "binding", False: "non-binding", None: "binding unknown"}[ballot.binding]
        marker = "AMBIGUOUS" if ballot.ambiguous else ballot.label
        out.print(f"  {marker:>9}  {ballot.voter} ({binding}): {ballot.cast.reading.sentence!r}")
        if ballot.counted_as is not None:
            out.print(f"             counted as {ballot.counted_as}", markup=False)
        out.print(f"             {_identity_text(ballot)}", markup=False)
    _print_vote_trust(report)
    for flag in report.flags:
        voters = f" ({', '.join(flag.voters)})" if flag.voters else ""
        out.print(f"  flag {flag.kind}: {flag.detail}{voters}")
    for discrepancy in report.discrepancies:
        who = f" ({', '.join(discrepancy.voters)})" if discrepancy.voters else ""
        out.print(
            f"  differs from RESULT ({discrepancy.kind}): {discrepancy.detail}{who}", markup=False
        )


def _identity_text(ballot: Ballot) -> str:
    """Who cast a ballot, as far as the bot can tell, in one line."""
    author = ballot.author
    if author is None:
        return ""
    if author.problem:
        return f"UNVERIFIED IDENTITY ({author.label}): {author.problem}"
    return f"identified by {author.how}" if author.how else ""


def _print_vote_trust(report: VoteReport) -> None:
    """Where the ballots came from, and what the RESULT claims that nobody can check."""
    counts = provenance(report.tally)
    if counts:
        parts = [f"{n} {VIA_WORDS.get(Via(via if via != 'unknown' else ''), via)}"
                 for via, n in counts.items()]  # fmt: skip
        out.print(f"  ballots: {'; '.join(parts)}", markup=False)
    if report.result_post is not None:
        where = "a reply in the vote thread" if report.result_in_thread else "its own thread"
        out.print(f"  result announced in {where}: {report.result_post}", markup=False)
    claim = report.binding_claimed_by_result
    if claim is not None and report.binding_unknown:
        names = ", ".join(claim.voters + claim.unmatched) or "names none"
        count = f" ({claim.count} binding)" if claim.count is not None else ""
        out.print(
            f"  binding as the RESULT claims it{count}: {names}"
            " (its word, not checked: no roster is configured)",
            markup=False,
        )


@cli.command()
@click.argument("thread", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_evaluate_at
@click.option("--limit", type=click.IntRange(min=1), help="At most this many threads (a page).")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help=_PAGE)
@click.pass_obj
def concerns(
    ctx: Context,
    thread: str | None,
    as_json: bool,
    now: datetime | None,
    limit: int | None,
    page: int,
) -> None:
    """The concern ledger of every RFC and discussion (or THREAD: a Message-ID or part of
    the subject), from the stored views, brought up to date first with what changed."""
    config = ctx.config()
    moment = _moment(now)
    with _store(ctx) as store:
        if thread is not None:
            found = [ledger_of(store, config, find_thread(store, thread), moment)]
            rows = [concern.to_dict() for ledger in found for concern in ledger.concerns]
            threads = len(found)
        elif now is not None:
            found = ledgers(store, config, moment)
            rows = [concern.to_dict() for ledger in found for concern in ledger.concerns]
            threads = len(found)
        else:
            views.catch_up(store, config, moment)
            payloads = stored_views.rfc_payloads(
                store, listed=True, with_concerns=True, order="first", **_paging(limit, page)
            )
            rows = [concern for payload in payloads for concern in payload["concern_list"]]
            threads = len(payloads)
    if as_json:
        _echo_json(rows)
        return
    table = _SafeTable(pad_edge=False, box=None)
    for column in ("state", "id", "raised by", "raised", "answered by", "title"):
        table.add_column(column, overflow="ellipsis", max_width=50)
    for row in rows:
        # Each person once, in the order they first answered (two answers, one name).
        answered = ", ".join(dict.fromkeys(ref["author"] for ref in row["answered_by"]))
        table.add_row(
            row["state"], row["id"], row["raised_by"], row["raised_at"][:10], answered, row["title"]
        )
    out.print(table)
    out.print(f"{len(rows)} concern(s) in {threads} thread(s)")


@cli.command()
@click.argument("thread")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_evaluate_at
@click.option("--plain", is_flag=True, help="Skip the optional summarizer rewrite.")
@click.pass_obj
def summary(ctx: Context, thread: str, as_json: bool, now: datetime | None, plain: bool) -> None:
    """What THREAD proposes, its open and resolved concerns, and who took part."""
    config = ctx.config()
    with _store(ctx) as store:
        result = summary_of(store, config, find_thread(store, thread), _moment(now))
    if as_json:
        _echo_json(result.to_dict())
        return
    text = render_summary(result, config)
    if config.summarizer.enabled and not plain:
        # Falls back to the computed text on any failure; the ledger never depends on it.
        from bot.adapters.summarizer import required_terms, rewrite_summary_sync

        text = rewrite_summary_sync(text, config.summarizer, keep=required_terms(result))
    _echo(text, nl=False)


def _moment(now: datetime | None) -> datetime:
    return now.replace(tzinfo=UTC) if now else datetime.now(UTC)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_evaluate_at
@click.pass_obj
def modules(ctx: Context, as_json: bool, now: datetime | None) -> None:
    """Every module: state, maintainers, open obligations, response times, CI failures."""
    config = ctx.config()
    with _store(ctx) as store:
        # As of another moment (--now) from scratch; else as the store keeps it.
        evaluation = (evaluate_modules if now else current_evaluation)(store, config, _moment(now))
    if as_json:
        payload = {
            "modules": [module_dict(f) for f in evaluation.modules],
            "obligations": [o.to_dict() for o in evaluation.obligations],
            "decisions": [d.to_dict() for d in evaluation.decisions],
        }
        _echo_json(payload, default=str)
        return
    table = _SafeTable(pad_edge=False, box=None)
    for column in ("module", "state", "maintainers", "open", "median", "p90", "CI fails", "flag"):
        table.add_column(column, overflow="ellipsis", max_width=40)
    for figures in evaluation.modules:
        table.add_row(
            figures.module,
            figures.state.value,
            ", ".join(figures.maintainers),
            str(figures.open),
            _duration(figures.median_response),
            _duration(figures.p90_response),
            str(figures.ci_failures),
            "UNRESPONSIVE" if figures.flagged else "",
        )
    out.print(table)
    for decision in evaluation.decisions:
        channel = decision.channel.value
        out.print(f"due: {decision.stage.verb} via {channel}: {decision.rule}; {decision.reason}")
    for obligation in evaluation.catch_up:
        out.print(
            f"catch-up: {obligation.module}: {'; '.join(obligation.reasons)} on"
            f" {obligation.opened_at:%Y-%m-%d}; waiting {human_duration(obligation.waiting)},"
            " which fell due while Quorum was not watching: listed in the next catch-up summary"
        )


def _duration(value: timedelta | None) -> str:
    return "-" if value is None else format_duration(value)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--now", type=click.DateTime(formats=_INSTANTS), help="As of this time (UTC).")
@click.pass_obj
def digest(ctx: Context, as_json: bool, now: datetime | None) -> None:
    """Print the weekly digest now: open concerns, votes, overdue answers, flagged modules."""
    config = ctx.config()
    with _store(ctx) as store:
        if now is None:
            views.catch_up(store, config, _moment(now))
        found = build_digest(store, config, _moment(now), current=now is None)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    _echo(render_digest(found, config), nl=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def stats(ctx: Context, as_json: bool) -> None:
    """Counts of messages, threads, messages kept with defects, and forum topics unread."""
    with _store(ctx) as store:
        numbers = forum_store.stats_report(store)
    if as_json:
        _echo_json(numbers)
        return
    unread = numbers.pop("forum_unread")
    for name, value in numbers.items():
        out.print(f"{name}: {value}")
    for topic in unread:
        # Forum topics a sync could not read in full: retried, and named here until read.
        out.print(
            f"  unread: forum {topic['forum']} topic {topic['topic_id']} since"
            f" {topic['first_at'][:16].replace('T', ' ')} ({topic['attempts']} tries):"
            f" {topic['error']}"
        )


@cli.command()
@click.option(
    "--now",
    "start_at",
    type=click.DateTime(formats=_INSTANTS),
    help="Start the bot's clock at this time (UTC) and let it run on from there: a demo"
    " of a given day. Stored times, reminders and the ladder all follow it.",
)
@click.pass_obj
def run(ctx: Context, start_at: datetime | None) -> None:
    """Serve: the SMTP endpoint and the worker, until SIGINT or SIGTERM."""
    config = ctx.config()
    path = database_path(ctx.db_path, create=True)
    clock = running_clock(_moment(start_at)) if start_at else None
    with store_errors(path), _switch_interval(SWITCH_INTERVAL_S):
        asyncio.run(
            _serve(config, path, Announcer(json_logs=ctx.log_format == "json"), clock=clock)
        )


@contextmanager
def _switch_interval(seconds: float) -> Iterator[None]:
    """Threads take turns with the event loop every ``seconds`` while serving."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def running_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads ``start`` now and runs on at the real pace."""
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


@dataclass(frozen=True, slots=True)
class Announcer:
    """What `quorum run` tells its operator: printed for a person, or, with
    `--log-format json`, log events only (stdout then carries nothing but JSON lines
    of the log, never a rendered message)."""

    json_logs: bool = False

    def say(self, text: str, name: str, **fields: Any) -> None:
        if self.json_logs:
            logger.info("%s", text, extra=logs.event(name, **fields))
        else:
            out.print(text)

    def print_threads(self, rows: list[Thread]) -> None:
        if not self.json_logs:
            _print_threads(rows)


# How many threads `quorum run` prints after its start-up import: a ten-year archive
# has thousands, and the terminal is for what is happening now.
STARTUP_THREADS = 20
# How long a thread may hold the interpreter before another may take it. The event loop
# answers SMTP between syscalls, and after each (a send, a read) it waits for the lock the
# parser and the writer threads hold; at Python's 5 ms a delivery of five steps could
# wait 25 ms in turns alone. At 0.5 ms the bench's p99 to 250 at 10k messages fell from
# 39 to 29 ms (the mean of six runs each; README, "Growth").
SWITCH_INTERVAL_S = 0.0005


async def _serve(
    config: Config,
    db_path: Path,
    announce: Announcer | None = None,
    clock: Callable[[], datetime] | None = None,
) -> None:
    from bot.app import App
    from bot.web import web_address

    say = announce or Announcer()
    app = App(config, db_path, clock=clock) if clock is not None else App(config, db_path)
    app.on_dispatch = None if say.json_logs else _print_dispatch
    app.handle_signals()
    endpoints = await app.start(helpers_first=True)
    try:
        report = await app.import_on_start()
        if report is not None:
            for error in report.errors:
                click.echo(f"error: {safe_text(error)}", err=True)
            say.say(
                f"imported {', '.join(config.imports.on_start)}: {report.summary()}",
                "import.done",
                read=report.counts.read,
                new=report.counts.new,
            )
            shown, total = await app.db(
                lambda store: (store.recent_threads(STARTUP_THREADS), store.stats()["threads"])
            )
            say.print_threads(shown)
            if total > len(shown):
                say.say(
                    f"(the {len(shown)} most recently active of {total} threads;"
                    " `quorum threads` lists them all)",
                    "import.threads",
                    shown=len(shown),
                    total=total,
                )
        if endpoints.smtp:
            host, port = endpoints.smtp
            accepted = ", ".join(config.smtp.accept)
            say.say(
                f"SMTP endpoint listening on {host}:{port}, accepting mail for {accepted}",
                "app.listening",
                source="smtp",
                address=f"{host}:{port}",
            )
        if endpoints.web:
            address = web_address(endpoints.web, config.web.root_path)
            say.say(f"dashboard on {address}", "app.listening", source="web", address=address)
        if endpoints.webhooks and config.discourse is not None:
            host, port = endpoints.webhooks
            path = config.discourse.webhooks.path
            say.say(
                f"Discourse webhooks on http://{host}:{port}{path}",
                "app.listening",
                source="webhooks",
                address=f"{host}:{port}",
            )
        if endpoints.github and config.github is not None:
            host, port = endpoints.github
            say.say(
                f"GitHub webhooks on http://{host}:{port}{config.github.webhook.path}",
                "app.listening",
                source="github",
                address=f"{host}:{port}",
            )
        if config.dispatch.dry_run:
            say.say(
                "dry-run: messages are printed and logged, not sent (see `quorum log`)",
                "app.dry_run",
            )
        await app.start_schedule()
        say.say(f"database: {db_path}; press Ctrl-C to stop", "app.started", db=str(db_path))
        await app.wait_for_stop()
    finally:
        await app.stop()
        say.say("stopped cleanly", "app.stopped")


def _print_dispatch(report: DispatchReport) -> None:
    """What the bot did or, in dry-run, would have done: each message with its reason.

    The action's key is shown only where a person must act on it (`quorum resolve`).
    """
    for outcome in report.outcomes:
        where = outcome.channel or "thread"
        needs_key = outcome.status in (Status.FAILED, Status.UNCERTAIN)
        key = f" ({outcome.key})" if needs_key else ""
        out.print(f"\n[{outcome.status.value}] {outcome.kind} via {where}{key}")
        if outcome.detail:
            out.print(f"  {outcome.detail}")
        if outcome.rendered:
            out.print("  " + outcome.rendered.strip().replace("\n", "\n  "))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--status", type=click.Choice([s.value for s in Status]), help="Only this status.")
@click.option("--kind", help="Only this kind of action (remind, escalate, reply, digest ...).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.pass_obj
def log(ctx: Context, as_json: bool, status: str | None, kind: str | None, limit: int) -> None:
    """Every action the bot decided, why (rule, threshold, evidence), and whether it was sent."""
    config = ctx.config()
    with _store(ctx) as store:
        entries = Outbox(store).log(
            limit=limit, status=Status(status) if status else None, kind=kind
        )
        # A post is named by its link (or Message-ID), never by Quorum's internal key.
        posts = {e.target: store.post(e.target) for e in entries}
    if as_json:
        _echo_json([e.to_dict() for e in entries])
        return
    for entry in entries:
        sent = f", sent {entry.sent_at:%Y-%m-%d %H:%M}" if entry.sent_at else ""
        post = posts.get(entry.target)
        target = link_of(post, config) if post is not None else entry.target
        out.print(
            f"{entry.created_at:%Y-%m-%d %H:%M} [{entry.status.value}{sent}] {entry.kind}"
            f" via {entry.channel or 'thread'} to {target}"
        )
        out.print(f"  key: {entry.key}")
        out.print(f"  why: {entry.reason}")
        if entry.last_error:
            out.print(f"  error: {entry.last_error}")
    out.print(f"{len(entries)} action(s)")


@cli.command()
@click.argument("key")
@click.option(
    "--delivered/--not-delivered",
    required=True,
    help="It did arrive (close it as sent), or it did not (send it again).",
)
@click.option("--note", default="", help="Why, for the log (who checked, where).")
@click.pass_obj
def resolve(ctx: Context, key: str, delivered: bool, note: str) -> None:
    """Settle an uncertain or failed action (see `quorum log --status uncertain`).

    After a timeout or a crash mid-send nobody knows whether a message arrived,
    so the bot never repeats it on its own. Look (the list archive, the forum
    topic, the Slack channel), then say what you found.
    """
    with _store(ctx) as store:
        outbox = Outbox(store)
        entry = outbox.get(key)
        if entry is None:
            raise UserError(f"no action with key {key!r}; `quorum log` lists them")
        if entry.status not in (Status.UNCERTAIN, Status.FAILED):
            raise UserError(
                f"action {key} is {entry.status.value}; only uncertain or failed ones are resolved"
            )
        outbox.resolve(key, delivered=delivered, now=datetime.now(UTC), note=note)
    verdict = "closed as sent" if delivered else "queued to be sent again"
    out.print(f"{key}: {verdict}")


# -- the ladder on a fake clock: what needs a person, what a tick would send -------------


@cli.command("attention")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--now", type=click.DateTime(formats=_INSTANTS), help="As of this time (UTC).")
@click.pass_obj
def attention_command(ctx: Context, as_json: bool, now: datetime | None) -> None:
    """What needs a person now: flags, escalations, unanswered reminders, the catch-up
    backlog, votes closing within 48 hours or whose RESULT disagrees, and RFCs with a
    recent unanswered concern. The digest's first section and the dashboard's front page."""
    config = ctx.config()
    moment = _moment(now)
    with _store(ctx) as store:
        if now is None:
            views.catch_up(store, config, moment)
        found = attention(store, config, moment, current=now is None)
    if as_json:
        _echo_json(found.to_dict())
        return
    if not found.items:
        out.print(f"Nothing needs a person now ({found.now:%Y-%m-%d %H:%M} UTC).")
        return
    for item in found.items:
        out.print(f"{item.kind.value}: {item.title} ({item.age})")
        out.print(f"  {item.detail}")
        if item.link:
            out.print(f"  {item.link}")
        for line in item.evidence:
            out.print(f"  - {line}")
    out.print(f"{len(found.items)} item(s) need a person")


@cli.command("tick")
@click.option(
    "--now",
    "start_at",
    type=click.DateTime(formats=_INSTANTS),
    required=True,
    help="The instant of the tick (UTC), e.g. 2026-11-20T09:00Z.",
)
@click.option(
    "--until",
    type=click.DateTime(formats=_INSTANTS),
    help="Tick again every --every until this time: a bot that ran all along.",
)
@click.option(
    "--every",
    "every_minutes",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    help="Minutes between ticks with --until.",
)
@click.option(
    "--record",
    is_flag=True,
    help="Record in the database itself (default: a scratch copy, nothing changes).",
)
@click.option(
    "--send",
    is_flag=True,
    help="Deliver as the config says (dispatch.dry_run, enabled channels); implies --record.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per tick.")
@click.pass_obj
def tick_command(
    ctx: Context,
    start_at: datetime,
    until: datetime | None,
    every_minutes: int,
    record: bool,
    send: bool,
    as_json: bool,
) -> None:
    """Run one tick of every feature at --now and print what would be sent (dry-run).

    Scheduled features (the digest) run when their schedule fires within the tick.
    The database is copied first unless --record or --send; a running `quorum run`
    on it is refused then, as two bots on one outbox would be.
    """
    from bot.tick import as_dict as tick_dict
    from bot.tick import instants, run_ticks, scratch_copy

    config = ctx.config()
    path = database_path(ctx.db_path, create=False)
    moments = instants(
        _moment(start_at), _moment(until) if until else None, timedelta(minutes=every_minutes)
    )
    if not moments:
        raise UserError("--until is before --now: no tick to run")
    in_place = record or send
    if in_place and running_server(path):
        raise UserError(f"quorum run is using {path}; stop it, or tick without --record")

    def show(report: TickReport) -> None:
        if as_json:
            click.echo(safe_json(json.dumps(tick_dict(report), ensure_ascii=False)))
            return
        fired = f"; scheduled: {', '.join(report.fired)}" if report.fired else ""
        if report.dispatch.outcomes or len(moments) == 1:
            out.print(f"== tick {report.at:%Y-%m-%d %H:%M} UTC: {report.recorded} new{fired}")
        _print_dispatch(report.dispatch)
        for warning in report.dispatch.warnings:
            out.print(f"warning: {warning}")

    with store_errors(path):
        if in_place:
            asyncio.run(run_ticks(config, path, moments, send=send, on_tick=show))
            return
        with scratch_copy(path) as copy:
            asyncio.run(run_ticks(config, copy, moments, on_tick=show))


# -- running it for real: backups, restores, health ----------------------------------------


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def backup(ctx: Context, path: Path) -> None:
    """Copy the database to PATH (a new file, or a folder for a dated file), while it runs.

    SQLite's online backup API copies one consistent state of the store even while
    `quorum run` accepts mail; the copy is checked and written under PATH only once
    complete. It is a single file: copy it anywhere, `quorum restore` it later.
    """
    # A backup is never urgent and mail is: on two cores, the copy at full priority
    # shows in the running bot's time to 250 (bench/ops.py).
    os.nice(BACKUP_NICENESS)
    target, contents = lifecycle.backup(ctx.db_path, path)
    logger.info(
        "backed up %s to %s",
        ctx.db_path,
        target,
        extra=logs.event("store.backup", db=str(ctx.db_path), target=str(target)),
    )
    click.echo(f"backed up {ctx.db_path} to {target}: {contents.summary()}")


@cli.command()
@click.argument("backup_path", metavar="BACKUP", type=click.Path(path_type=Path))
@click.pass_obj
def restore(ctx: Context, backup_path: Path) -> None:
    """Replace the database (--db) with BACKUP; the current one is kept beside it.

    Stop `quorum run` first (a restore under it is refused). A backup from an older
    Quorum is migrated when the bot next starts; one from a newer Quorum is refused.
    """
    contents, kept = lifecycle.restore(backup_path, ctx.db_path)
    Store.open(ctx.db_path).close()  # migrate now: a problem shows here, not at start
    logger.info(
        "restored %s from %s",
        ctx.db_path,
        backup_path,
        extra=logs.event("store.restore", db=str(ctx.db_path), backup=str(backup_path)),
    )
    click.echo(f"restored {ctx.db_path} from {backup_path}: {contents.summary()}")
    if kept is not None:
        click.echo(f"the database it replaced is kept as {kept}")


@cli.command()
@click.option("--url", help="The /healthz URL (default: from [web] in the config).")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to wait.")
@click.pass_obj
def health(ctx: Context, url: str | None, timeout: float) -> None:
    """Ask a running `quorum run` how it is: exit 0 if healthy, 1 with the reason if not.

    For container HEALTHCHECKs and monitoring; it reads /healthz from the dashboard.
    """
    target = url or healthz_url(ctx.config())
    status, report = _get_json(target, timeout)
    if status == 200:
        click.echo(f"ok: {target}")
        return
    failing = [name for name, value in report.items() if isinstance(value, dict) and not _ok(value)]
    detail = ", ".join(failing) or report.get("error", "no answer")
    click.echo(f"unhealthy ({status or 'no answer'}): {detail} ({target})", err=True)
    sys.exit(1)


def healthz_url(config: Config) -> str:
    """Where `quorum run` with this config answers /healthz, seen from the same host."""
    settings = config.web
    if not settings.enabled:
        raise UserError("web.enabled is false, so there is no /healthz; give --url")
    if settings.port == 0:
        raise UserError("web.port is 0 (a random port); give --url")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        settings.host, settings.host
    )
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{settings.port}{settings.prefix}/healthz"


def _get_json(url: str, timeout: float) -> tuple[int, dict[str, Any]]:
    """GET url: its status and JSON object; (0, {"error": why}) when nothing answered."""
    if not url.startswith(("http://", "https://")):
        raise UserError(f"{url}: not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (checked)
            return response.status, _json_object(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json_object(error.read())
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return 0, {"error": str(reason)}


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _ok(component: dict[str, Any]) -> bool:
    if "ok" in component:
        return bool(component["ok"])
    return all(_ok(item) for item in component.values() if isinstance(item, dict))


# Sources people already have (fetch, roster, people) live in a module of their own.
register_source_commands(cli)


def _fail(error: QuorumError) -> NoReturn:
    text = safe_text(str(error))
    click.echo(f"error: {text}" if "\n" not in text else text, err=True)
    sys.exit(error.exit_code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every QuorumError becomes a message and an exit status."""
    try:
        status = cli.main(args=argv, prog_name="quorum", standalone_mode=False)
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
