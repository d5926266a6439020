"""Commands for sources people already have: ``fetch``, ``roster``, ``people``.

``quorum fetch`` reads list archives (Pony Mail, HyperKitty, public-inbox) and
GitHub repositories into the store; ``quorum roster import`` reads who is on the
PMC (and since when) from ASF committee data, a CONTRIBUTORS.md or a CSV;
``quorum people`` shows who is who and lets a person confirm what mail suggests.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.config import Config, GitHubConfig, load_config
from bot.core.roster import (
    RosterFormatError,
    RosterSnapshot,
    detect_format,
    parse_committee_info,
    parse_contributors_md,
    parse_roster_csv,
)
from bot.core.sources import PONYMAIL_URL, ListAddress, Month
from bot.errors import UserError
from bot.features.roster import import_roster, refresh_hints, roster_on
from bot.store import Store
from bot.store import sources as source_store
from bot.sync import direct_db

# The HTTP clients (aiohttp) are imported by the commands that fetch: every other
# command of `quorum` starts without them.
if TYPE_CHECKING:
    from bot.adapters.http_fetch import HttpFetcher
    from bot.adapters.list_archives import ArchiveSource
    from bot.sync.archives import FetchProgress, FetchReport
    from bot.sync.github import GitHubReport

out = Console(
    highlight=False, markup=False, emoji=False, width=None if sys.stdout.isatty() else 160
)


class _Obj(Protocol):
    """What ``bot.cli`` passes down: where the config and the database are."""

    config_path: Path | None
    db_path: Path


@contextmanager
def _store(ctx: _Obj) -> Iterator[Store]:
    store = Store.open(ctx.db_path)
    try:
        yield store
    finally:
        store.close()


def _config(ctx: _Obj) -> Config:
    return load_config(ctx.config_path)


def _month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Month | None:
    if value is None:
        return None
    try:
        return Month.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _list_address(_ctx: click.Context, _param: click.Parameter, value: str) -> ListAddress:
    try:
        return ListAddress.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _now() -> datetime:
    return datetime.now(UTC)


# -- quorum fetch -------------------------------------------------------------------------


@click.group()
def fetch() -> None:
    """Read list archives and GitHub repositories into the store (incremental, resumable)."""


def _fetch_options(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--since", callback=_month, help="First month (YYYY-MM)."),
        click.option("--until", callback=_month, help="Last month (YYYY-MM; default: now)."),
        click.option(
            "--max-requests",
            type=click.IntRange(min=1),
            default=1000,
            show_default=True,
            help="Request budget of this run (retries count); the next run continues.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=120.0,
            show_default=True,
            help="Seconds one request may take.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=1),
            default=4,
            show_default=True,
            help="Attempts per request on 429, 5xx or timeouts.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@fetch.command("ponymail")
@click.argument("list_address", metavar="LIST", callback=_list_address)
@click.option("--url", default=PONYMAIL_URL, show_default=True, help="The Pony Mail site.")
@_fetch_options
@click.pass_obj
def fetch_ponymail(ctx: _Obj, /, list_address: ListAddress, url: str, **options: Any) -> None:
    """A list from Pony Mail Foal, e.g. dev@tvm.apache.org (from its first month by default)."""
    from bot.adapters.list_archives import PonyMail

    _run_archive(ctx, lambda http: PonyMail(http, list_address, url), **options)


@fetch.command("hyperkitty")
@click.argument("list_address", metavar="LIST", callback=_list_address)
@click.option(
    "--url", required=True, help="HyperKitty's root, e.g. https://lists.example.org/archives"
)
@_fetch_options
@click.pass_obj
def fetch_hyperkitty(ctx: _Obj, /, list_address: ListAddress, url: str, **options: Any) -> None:
    """A list from Mailman 3's HyperKitty archive (its mbox export, a month at a time)."""
    from bot.adapters.list_archives import HyperKitty

    _run_archive(ctx, lambda http: HyperKitty(http, list_address, url), **options)


@fetch.command("public-inbox")
@click.argument("inbox_url", metavar="URL")
@_fetch_options
@click.pass_obj
def fetch_public_inbox(ctx: _Obj, /, inbox_url: str, **options: Any) -> None:
    """A public-inbox archive by its URL, e.g. https://lore.kernel.org/git (needs --since)."""
    from bot.adapters.list_archives import PublicInbox

    _run_archive(ctx, lambda http: PublicInbox(http, inbox_url), **options)


def _run_archive(
    ctx: _Obj,
    make: Callable[[HttpFetcher], ArchiveSource],
    *,
    since: Month | None,
    until: Month | None,
    max_requests: int,
    timeout: float,
    retries: int,
) -> None:
    from bot.adapters.discourse import RetryPolicy
    from bot.adapters.http_fetch import HttpFetcher, RequestBudget
    from bot.sync.archives import fetch_archive

    _config(ctx)  # a bad config is reported before any request
    retry = RetryPolicy(max_attempts=retries)

    async def run(store: Store) -> FetchReport:
        http = HttpFetcher(budget=RequestBudget(max_requests), retry=retry, timeout_seconds=timeout)
        async with http:
            source = make(http)
            with _progress(source.label) as progress:
                return await fetch_archive(
                    direct_db(store),
                    source,
                    since=since,
                    until=until,
                    now=_now(),
                    requests_used=lambda: http.budget.used,
                    progress=progress,
                )

    with _store(ctx) as store:
        report = asyncio.run(run(store))
    _finish(report)


@fetch.command("github")
@click.argument("repos", nargs=-1)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="Only what changed since (YYYY-MM-DD)."
)
@click.option("--max-requests", type=click.IntRange(min=1), help="Request budget of this run.")
@click.pass_obj
def fetch_github(
    ctx: _Obj, repos: tuple[str, ...], since: datetime | None, max_requests: int | None
) -> None:
    """Issues, pull requests, comments, reviews and CODEOWNERS of the [github] repositories."""
    from bot.adapters.github import GitHubClient
    from bot.sync.github import github_fetcher, poll_github

    config = _config(ctx)
    settings = config.github or (GitHubConfig(repos=list(repos)) if repos else None)
    if settings is None:
        raise UserError("name the repositories (owner/name), or list them in [github] repos")
    chosen = list(repos) or settings.repos

    async def run(store: Store) -> GitHubReport:
        async with github_fetcher(settings, max_requests=max_requests) as http:
            with _progress(f"github {', '.join(chosen)}") as progress:
                return await poll_github(
                    direct_db(store),
                    GitHubClient(http, settings.api_url),
                    chosen,
                    since=since.replace(tzinfo=UTC) if since else None,
                    now=_now(),
                    reviews=settings.reviews,
                    requests_used=lambda: http.budget.used,
                    on_page=progress.step_done,
                )

    with _store(ctx) as store:
        report = asyncio.run(run(store))
    _finish(report)


def _finish(report: FetchReport | GitHubReport) -> None:
    if report.error is not None:
        click.echo(f"error: {report.error}", err=True)
    click.echo(report.summary())
    if report.error is not None:
        sys.exit(1)


@contextmanager
def _progress(label: str) -> Iterator[FetchProgress]:
    """A progress bar on a terminal (stderr); nothing when output is piped."""
    from bot.sync.archives import FetchProgress

    if not sys.stderr.isatty():
        yield FetchProgress()
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} · {task.fields[new]} new"),
        TimeElapsedColumn(),
    )

    class Bar(FetchProgress):
        def __init__(self, progress: Progress) -> None:
            self._progress = progress
            self._task = progress.add_task(label, total=None, new=0)
            self._new = 0

        def planned(self, steps: int) -> None:
            self._progress.update(self._task, total=steps)

        def step_done(self, what: str, new: int) -> None:
            self._new += new
            self._progress.update(self._task, advance=1, new=self._new, description=what)

    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        yield Bar(progress)


# -- quorum roster -------------------------------------------------------------------------


@click.group()
def roster() -> None:
    """Who casts binding votes, and since when: import rosters, show the roster on a day."""


@roster.command("import")
@click.argument("source", metavar="FILE_OR_URL")
@click.option(
    "--format",
    "form",
    type=click.Choice(["committee-info", "contributors", "csv"]),
    help="Default: from the file (JSON is committee-info, Markdown a CONTRIBUTORS.md).",
)
@click.option("--committee", help="The committee in committee-info.json (e.g. tvm).")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="The day the file describes (CONTRIBUTORS.md, CSV; default today).",
)
@click.pass_obj
def roster_import(
    ctx: _Obj, source: str, form: str | None, committee: str | None, as_of: datetime | None
) -> None:
    """Read a roster; changes since the last import of the same kind are kept with their dates.

    FILE_OR_URL: Whimsy's committee-info.json (with --committee), a CONTRIBUTORS.md with
    Committers/Reviewers sections, or a CSV with a header row (name, and any of role,
    joined, left, github, email). An http(s) URL is downloaded first.
    """
    config = _config(ctx)
    text = _read_roster(source)
    day = as_of.date() if as_of else _now().date()
    snapshot = _snapshot(text, source, form, committee or _committee_of(config), day)
    with _store(ctx) as store:
        result = import_roster(store, snapshot, now=_now())
    click.echo(result.summary())


def _committee_of(config: Config) -> str | None:
    """tvm for dev@tvm.apache.org: the ASF committee named by the list's domain."""
    local_domain = config.project.list_address.partition("@")[2]
    return local_domain.split(".")[0] if local_domain.endswith(".apache.org") else None


def _snapshot(
    text: str, source: str, form: str | None, committee: str | None, day: date
) -> RosterSnapshot:
    kind = form or detect_format(source, text)
    name = source.rsplit("/", 1)[-1]
    try:
        if kind == "committee-info":
            if not committee:
                raise UserError(f"{source}: name the committee with --committee (e.g. tvm)")
            return parse_committee_info(text, committee)
        if kind == "contributors":
            return parse_contributors_md(text, day, source=name)
        return parse_roster_csv(text, day, source=name)
    except RosterFormatError as error:
        raise UserError(f"{source}: {error}") from None


def _read_roster(source: str) -> str:
    if source.startswith(("http://", "https://")):
        return asyncio.run(_download(source))
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read: {error}") from None


async def _download(url: str) -> str:
    from bot.adapters.http_fetch import FetchFailed, HttpFetcher, RequestBudget

    async with HttpFetcher(budget=RequestBudget(10), timeout_seconds=60) as http:
        try:
            answer = await http.request("GET", url, what="roster")
        except FetchFailed as error:
            raise UserError(str(error)) from None
    return answer.body.decode("utf-8", "replace")


@roster.command("show")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="The day (default today).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def roster_show(ctx: _Obj, as_of: datetime | None, as_json: bool) -> None:
    """The binding members on a day: the config's, and the imported ones it does not override."""
    config = _config(ctx)
    day = as_of.date() if as_of else _now().date()
    with _store(ctx) as store:
        members = roster_on(store, config, day)
    if as_json:
        rows = [{"name": name, "from": where} for name, where in members]
        click.echo(json.dumps({"as_of": day.isoformat(), "members": rows}, indent=2))
        return
    for name, where in members:
        out.print(f"{name}  ({where})")
    out.print(f"{len(members)} binding member(s) on {day}")


# -- quorum people ------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def people(click_ctx: click.Context, as_json: bool) -> None:
    """Who is who: logins and addresses per person, confirmed or still a hint.

    Rosters give confirmed links; RESULT mails ("Tianqi Chen (tqchen)") and GitHub
    mirrors (a profile name next to a login) give hints, which count only once a
    person accepts them: `quorum people accept LOGIN`.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: _Obj = click_ctx.obj
    with _store(ctx) as store:
        new = refresh_hints(store, now=_now())
        found = source_store.hints(store)
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in found], indent=2, ensure_ascii=False))
        return
    table = Table(pad_edge=False, box=None)
    for column in ("person", "alias", "kind", "state", "source", "evidence"):
        table.add_column(column, overflow="ellipsis", max_width=50)
    for hint in found:
        evidence = hint.evidence[0] if hint.evidence else ""
        more = f" (+{len(hint.evidence) - 1})" if len(hint.evidence) > 1 else ""
        table.add_row(hint.person, hint.alias, hint.kind, hint.state, hint.source, evidence + more)
    out.print(table)
    waiting = sum(1 for h in found if h.state == "unconfirmed")
    out.print(f"{len(found)} link(s), {waiting} unconfirmed ({new} new); accept with"
              " `quorum people accept ALIAS`")  # fmt: skip


def _decide(ctx: _Obj, alias: str, person: str | None, state: str) -> None:
    with _store(ctx) as store:
        refresh_hints(store, now=_now())
        candidates = {
            h.person for h in source_store.hints(store) if h.alias.casefold() == alias.casefold()
        }
        if not candidates:
            raise UserError(f"no hint for {alias!r}; `quorum people` lists them")
        if person is None and len(candidates) > 1:
            names = ", ".join(sorted(candidates))
            raise UserError(f"{alias!r} is linked to several people ({names}); add --person NAME")
        if person is not None and person not in candidates:
            raise UserError(f"{alias!r} is not linked to {person!r}; `quorum people` lists them")
        changed = source_store.decide_hints(store, alias, state, person=person, now=_now())
    for hint in changed:
        out.print(f"{hint.alias} = {hint.person}: {state}")


@people.command("accept")
@click.argument("alias")
@click.option("--person", help="Which person, when the alias is linked to several.")
@click.pass_obj
def people_accept(ctx: _Obj, alias: str, person: str | None) -> None:
    """Confirm that ALIAS (a login or an address) is PERSON: votes and modules then use it."""
    _decide(ctx, alias, person, "accepted")


@people.command("reject")
@click.argument("alias")
@click.option("--person", help="Which person, when the alias is linked to several.")
@click.pass_obj
def people_reject(ctx: _Obj, alias: str, person: str | None) -> None:
    """Say that ALIAS is not PERSON: the hint is kept, marked rejected, and never counts."""
    _decide(ctx, alias, person, "rejected")


def register(cli: click.Group) -> None:
    for command in (fetch, roster, people):
        cli.add_command(command)
