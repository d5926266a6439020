"""`quorum fetch` from Pony Mail, HyperKitty and public-inbox: the real clients over loopback.

Each fake answers as the real server does (see its docstring). What a user would
notice is asserted: what is stored, what a second run asks for, what an error says.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.discourse import RetryPolicy
from bot.adapters.http_fetch import HttpFetcher, RequestBudget
from bot.adapters.list_archives import HyperKitty, PonyMail, PublicInbox
from bot.core.sources import ListAddress, Month
from bot.errors import UserError
from bot.ingest import import_paths, process_inbox
from bot.store import Store
from bot.store import sources as source_store
from bot.sync import direct_db
from bot.sync.archives import FetchReport, fetch_archive
from tests.fakes.hyperkitty import FakeHyperKitty
from tests.fakes.ponymail import FakePonyMail
from tests.fakes.publicinbox import FakePublicInbox
from tests.mailgen import raw_mail

ROOT = Path(__file__).resolve().parent.parent
LIST = ListAddress.parse("dev@tvm.apache.org")
# After March was over (and settled): every month up to March is whole.
LATER = datetime(2024, 4, 10, tzinfo=UTC)


def _mail(n: int, month: int, *, reply_to: int | None = None, body: str = "") -> bytes:
    extra = f"In-Reply-To: <m{reply_to}@example.org>" if reply_to else ""
    return raw_mail(
        body or f"Message {n}.\n",
        subject=f"{'Re: ' if reply_to else ''}[DISCUSS] Topic {reply_to or n}",
        message_id=f"<m{n}@example.org>",
        date=f"Mon, {n % 27 + 1:02d} {['Jan', 'Feb', 'Mar'][month - 1]} 2024 10:00:00 +0000",
        extra=extra,
    )


# Two threads in January, a reply to one of them in February, one more in March.
MAILS = [_mail(1, 1), _mail(2, 1, reply_to=1), _mail(3, 1), _mail(4, 2, reply_to=3), _mail(5, 3)]


class Sleeps:
    """Stands in for asyncio.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _http(budget: int = 100, *, timeout: float = 10.0, sleeps: Sleeps | None = None) -> HttpFetcher:
    return HttpFetcher(
        budget=RequestBudget(budget),
        retry=RetryPolicy(max_attempts=3, backoff_seconds=0.01, max_wait_seconds=60),
        timeout_seconds=timeout,
        sleep=sleeps or Sleeps(),
    )


async def _fetch(store: Store, source: object, http: HttpFetcher, **kwargs: object) -> FetchReport:
    options: dict[str, object] = {"since": None, "until": Month(2024, 3), "now": LATER}
    options.update(kwargs)
    return await fetch_archive(
        direct_db(store),
        source,
        requests_used=lambda: http.budget.used,
        **options,  # type: ignore[arg-type]
    )


def _message_ids(store: Store) -> list[str]:
    return sorted(post.message_id or post.key for post in store.iter_posts())


# -- Pony Mail ------------------------------------------------------------------------------


@pytest.fixture
async def ponymail() -> AsyncIterator[FakePonyMail]:
    fake = FakePonyMail()
    for raw in MAILS:
        fake.add(raw, str(LIST))
    fake.add(raw_mail(message_id="<other@example.org>"), "users@tvm.apache.org")
    async with fake:
        yield fake


async def test_ponymail_fetches_every_month_with_permalinks_and_a_second_run_asks_for_nothing(
    store: Store, ponymail: FakePonyMail
):
    async with _http() as http:
        source = PonyMail(http, LIST, ponymail.base_url)
        first = await _fetch(store, source, http)
        assert first.error is None
        assert first.fetched == ["2024-01", "2024-02", "2024-03"]
        assert (first.counts.read, first.counts.new) == (5, 5)
        assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]
        # The reply in February joined its January thread.
        assert store.post("<m4@example.org>").thread_key == "<m3@example.org>"  # type: ignore[union-attr]
        links = source_store.archive_links(store, "<m2@example.org>")
        assert len(links) == 1
        assert links[0][2].startswith(f"{ponymail.base_url}/thread/r")
        # ... and what links to the post (replies, reminders, the dashboard) uses it.
        assert store.post("<m2@example.org>").url == links[0][2]  # type: ignore[union-attr]

        asked = len(ponymail.requests)
        second = await _fetch(store, source, http)
    assert second.error is None
    assert second.fetched == []
    assert second.skipped == 3
    assert second.counts.new == 0
    assert ponymail.requests[asked:] == []  # every month was whole: not one request


async def test_ponymail_month_still_open_is_asked_only_whether_anything_changed(
    store: Store, ponymail: FakePonyMail
):
    during_march = datetime(2024, 3, 20, tzinfo=UTC)
    async with _http() as http:
        source = PonyMail(http, LIST, ponymail.base_url)
        await _fetch(store, source, http, now=during_march)
        asked = len(ponymail.requests)
        again = await _fetch(store, source, http, now=during_march)
        assert again.skipped == 3
        assert again.counts.read == 0
        # January and February are settled; March only gets the cheap "changed since?" query.
        newest = int(datetime(2024, 3, 6, 10, tzinfo=UTC).timestamp())  # mail 5
        assert ponymail.requests[asked:] == [
            f"/api/stats.lua?list=dev&domain=tvm.apache.org&d=2024-03&since={newest}&quick="
        ]
        ponymail.add(_mail(6, 3, reply_to=5), str(LIST))
        third = await _fetch(store, source, http, now=during_march)
    assert third.fetched == ["2024-03"]
    assert (third.counts.new, third.counts.known) == (1, 1)


async def test_ponymail_429_with_retry_after_is_waited_out_and_nothing_is_lost(
    store: Store, ponymail: FakePonyMail
):
    ponymail.faults.fail_next(2, "429", path="mbox.lua", retry_after="7")
    sleeps = Sleeps()
    async with _http(sleeps=sleeps) as http:
        report = await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    assert report.error is None
    assert sleeps.waits == [7.0, 7.0]  # as the server asked
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]


async def test_ponymail_failing_mid_fetch_stops_with_one_clear_error_and_resumes(
    store: Store, ponymail: FakePonyMail
):
    ponymail.faults.fail_next(3, "503", path="d=2024-02")
    async with _http() as http:
        source = PonyMail(http, LIST, ponymail.base_url)
        failed = await _fetch(store, source, http)
        assert failed.fetched == ["2024-01"]
        assert failed.error is not None
        assert "Pony Mail dev@tvm.apache.org, 2024-02" in failed.error
        assert "HTTP 503 3 times" in failed.error
        assert "run the same command again" in failed.error
        assert _message_ids(store) == [f"<m{n}@example.org>" for n in (1, 2, 3)]
        asked = len(ponymail.requests)

        resumed = await _fetch(store, source, http)  # the server is back
    assert resumed.error is None
    assert resumed.fetched == ["2024-02", "2024-03"]
    assert not any("2024-01" in path for path in ponymail.requests[asked:])
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]
    assert store.stats()["messages"] == 5


async def test_ponymail_slow_answer_times_out_and_is_retried(store: Store, ponymail: FakePonyMail):
    ponymail.faults.fail_next(1, "slow", path="mbox.lua?list=dev&domain=tvm.apache.org&d=2024-02",
                              delay=1.0)  # fmt: skip
    async with _http(timeout=0.2) as http:
        report = await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    await ponymail.wait_idle()
    assert report.error is None
    assert sum("d=2024-02" in p and "mbox" in p for p in ponymail.requests) == 2
    assert store.stats()["messages"] == 5


async def test_ponymail_answer_cut_mid_stream_is_not_stored_half(
    store: Store, ponymail: FakePonyMail
):
    ponymail.faults.fail_next(1, "cut", path="mbox.lua?list=dev&domain=tvm.apache.org&d=2024-01")
    async with _http() as http:
        report = await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    assert report.error is None
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]
    assert store.defect_counts() == {}


async def test_ponymail_request_budget_stops_the_fetch_and_the_next_run_continues(
    store: Store, ponymail: FakePonyMail
):
    async with _http(budget=4) as first_http:
        first = await _fetch(store, PonyMail(first_http, LIST, ponymail.base_url), first_http)
    assert first.error is not None
    assert "request budget of 4 is used up" in first.error
    assert first.fetched == ["2024-01"]
    assert first.requests == 4
    async with _http() as http:
        second = await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    assert second.fetched == ["2024-02", "2024-03"]
    assert store.stats()["messages"] == 5


async def test_ponymail_unknown_list_names_what_to_check(store: Store, ponymail: FakePonyMail):
    async with _http() as http:
        source = PonyMail(http, ListAddress.parse("dev@tvm.apache.org"), ponymail.base_url + "/x")
        report = await _fetch(store, source, http, since=Month(2024, 1))
    assert report.error is not None
    assert "HTTP 404" in report.error
    assert "is dev@tvm.apache.org archived at" in report.error


async def test_fetch_smtp_and_import_of_the_same_mail_store_it_once(
    store: Store, ponymail: FakePonyMail, tmp_path: Path
):
    # The list delivered the first two mails over SMTP, an old archive file has three ...
    for raw in MAILS[:2]:
        store.enqueue_inbound(
            raw.replace(b"\n", b"\r\n"), received_at=LATER, peer="x", mail_from="y", rcpt_to=[]
        )
    process_inbox(store)
    archive = tmp_path / "old.mbox"
    archive.write_bytes(
        b"".join(b"From x Mon Jan  1 00:00:00 2024\n" + m + b"\n" for m in MAILS[1:4])
    )
    import_paths(store, [archive])
    # ... and the fetch brings all five again.
    async with _http() as http:
        report = await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    assert (report.counts.new, report.counts.known) == (1, 4)
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]


# -- HyperKitty -----------------------------------------------------------------------------


@pytest.fixture
async def hyperkitty() -> AsyncIterator[FakeHyperKitty]:
    fake = FakeHyperKitty()
    for raw in MAILS:
        fake.add(raw, str(LIST))
    async with fake:
        yield fake


async def test_hyperkitty_fetch_month_by_month_from_the_list_creation(
    store: Store, hyperkitty: FakeHyperKitty
):
    async with _http() as http:
        source = HyperKitty(http, LIST, hyperkitty.base_url)
        report = await _fetch(store, source, http)
        assert report.error is None
        assert report.fetched == ["2024-01", "2024-02", "2024-03"]
        asked = len(hyperkitty.requests)
        again = await _fetch(store, source, http)
    assert again.counts.read == 0
    assert hyperkitty.requests[asked:] == []
    assert hyperkitty.requests[1].startswith(
        f"/archives/list/{LIST}/export/dev-2024-01.mbox.gz?start=2024-01-01&end=2024-02-01"
    )
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]
    # HyperKitty rebuilds mail without References: In-Reply-To still threads the reply.
    assert store.post("<m4@example.org>").thread_key == "<m3@example.org>"  # type: ignore[union-attr]
    digest = source_store.archive_links(store, "<m1@example.org>")[0][1]
    assert len(digest) == 32  # base32 of a SHA-1


async def test_hyperkitty_rebuilt_mail_and_the_original_are_one_post_in_either_order(
    tmp_path: Path, hyperkitty: FakeHyperKitty
):
    archive = tmp_path / "list.mbox"
    archive.write_bytes(b"".join(b"From x Mon Jan  1 00:00:00 2024\n" + m + b"\n" for m in MAILS))
    for order in ("import first", "fetch first"):
        store = Store.open(tmp_path / f"{order}.db")
        try:
            if order == "import first":
                import_paths(store, [archive])
            async with _http() as http:
                await _fetch(store, HyperKitty(http, LIST, hyperkitty.base_url), http)
            late = import_paths(store, [archive])
            assert late.counts.new == 0, order
            assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)], order
            assert store.defect_counts() == {}, order
        finally:
            store.close()


async def test_hyperkitty_private_list_says_so(store: Store, hyperkitty: FakeHyperKitty):
    hyperkitty.private.add(str(LIST))
    async with _http() as http:
        report = await _fetch(store, HyperKitty(http, LIST, hyperkitty.base_url), http)
    assert report.error is not None
    assert "HTTP 403" in report.error
    assert "is private" in report.error


# -- public-inbox ---------------------------------------------------------------------------


@pytest.fixture
async def inbox() -> AsyncIterator[FakePublicInbox]:
    fake = FakePublicInbox()
    for raw in MAILS:
        fake.add(raw, "dev")
    async with fake:
        yield fake


async def test_public_inbox_needs_a_first_month(store: Store, inbox: FakePublicInbox):
    async with _http() as http:
        with pytest.raises(UserError, match="--since YYYY-MM"):
            await _fetch(store, PublicInbox(http, f"{inbox.base_url}/dev"), http)


async def test_public_inbox_fetch_overlapping_days_and_empty_months(
    store: Store, inbox: FakePublicInbox
):
    async with _http() as http:
        source = PublicInbox(http, f"{inbox.base_url}/dev")
        report = await _fetch(store, source, http, since=Month(2023, 12))
        assert report.error is None
        assert report.fetched == ["2023-12", "2024-01", "2024-02", "2024-03"]  # December: 404
        again = await _fetch(store, source, http, since=Month(2023, 12))
    assert again.counts.read == 0
    assert report.counts.new == 5
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]
    assert inbox.faults.requests[1].method == "POST"
    assert "q=d:20240101..20240201&x=m" in inbox.requests[1]


async def test_public_inbox_unknown_inbox_is_a_clear_error(store: Store, inbox: FakePublicInbox):
    async with _http() as http:
        source = PublicInbox(http, f"{inbox.base_url}/nope")
        report = await _fetch(store, source, http, since=Month(2024, 1))
    assert report.error is not None
    assert "no inbox at" in report.error


async def test_ponymail_copy_of_8bit_mail_it_re_decoded_is_the_mail_already_held(
    store: Store, ponymail: FakePonyMail, tmp_path: Path
):
    # Pony Mail stores sources as UTF-8 text, so an undeclared Latin-1 body comes back
    # with replacement characters: other bytes, same mail.
    latin1 = _mail(7, 1).replace(b"Message 7.", b"Caf\xe9 au lait.")
    ponymail.add(latin1, str(LIST))
    archive = tmp_path / "old.mbox"
    archive.write_bytes(b"From x Mon Jan  1 00:00:00 2024\n" + latin1 + b"\n")
    import_paths(store, [archive])
    async with _http() as http:
        await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    assert import_paths(store, [archive]).counts.new == 0
    assert _message_ids(store) == sorted(
        [*(f"<m{n}@example.org>" for n in range(1, 6)), "<m7@example.org>"]
    )
    assert "message-id-clash" not in store.defect_counts()


async def test_two_mails_one_message_id_in_one_archive_stay_two(
    store: Store, ponymail: FakePonyMail
):
    # Pony Mail keeps both (the corpus has GitHub mirrors that share an id): so do we.
    ponymail.add(_mail(1, 1).replace(b"Message 1.", b"Another mail, same id."), str(LIST))
    async with _http() as http:
        await _fetch(store, PonyMail(http, LIST, ponymail.base_url), http)
    assert store.stats()["messages"] == 6
    assert store.defect_counts() == {"message-id-clash": 1}


async def test_fetch_command_prints_one_error_line_and_the_summary(
    tmp_path: Path, ponymail: FakePonyMail
):
    ponymail.faults.fail_next(9, "500", path="d=2024-02")

    def fetch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "--db", str(tmp_path / "q.db"), "fetch", *args],
            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
        )  # fmt: skip

    failed = await asyncio.to_thread(
        fetch, "ponymail", str(LIST), "--url", ponymail.base_url, "--since", "2024-01",
        "--until", "2024-03", "--retries", "2",
    )  # fmt: skip
    assert failed.returncode == 1
    (error,) = failed.stderr.splitlines()
    assert error.startswith("error: Pony Mail dev@tvm.apache.org, 2024-02: GET http://127.0.0.1:")
    assert error.endswith(
        "HTTP 500 2 times; the server failed; run the same command again later"
        " (what was stored stays)"
    )
    assert failed.stdout.startswith(
        "Pony Mail dev@tvm.apache.org: 1 month(s) fetched, 0 already up to date; read 3, new 3,"
    )
    bad_month = await asyncio.to_thread(fetch, "ponymail", str(LIST), "--since", "2024-13")
    assert bad_month.returncode == 2
    assert "write it as YYYY-MM" in bad_month.stderr
    no_repos = await asyncio.to_thread(fetch, "github")
    assert no_repos.returncode == 1
    assert no_repos.stderr.strip() == (
        "error: name the repositories (owner/name), or list them in [github] repos"
    )


@pytest.mark.parametrize("kind", ["429", "503", "slow"])
@pytest.mark.parametrize("archive", ["ponymail", "hyperkitty", "public-inbox"])
async def test_every_archive_survives_a_fault_mid_fetch_without_loss_or_duplicates(
    store: Store, archive: str, kind: str
):
    fakes = {
        "ponymail": FakePonyMail,
        "hyperkitty": FakeHyperKitty,
        "public-inbox": FakePublicInbox,
    }
    fake = fakes[archive]()
    for raw in MAILS:
        fake.add(raw, "dev" if archive == "public-inbox" else str(LIST))  # type: ignore[attr-defined]
    # The second month's request fails once (its mbox, for Pony Mail), then is answered.
    month = {"ponymail": "mbox.lua?list=dev&domain=tvm.apache.org&d=2024-02",
             "hyperkitty": "dev-2024-02", "public-inbox": "d:20240201"}[archive]  # fmt: skip
    fake.faults.fail_next(1, kind, path=month, retry_after="3", delay=1.0)  # type: ignore[arg-type]
    sleeps = Sleeps()
    async with fake, _http(timeout=0.3, sleeps=sleeps) as http:
        source = {
            "ponymail": lambda: PonyMail(http, LIST, fake.base_url),
            "hyperkitty": lambda: HyperKitty(http, LIST, fake.base_url),
            "public-inbox": lambda: PublicInbox(http, f"{fake.base_url}/dev"),
        }[archive]()
        report = await _fetch(store, source, http, since=Month(2024, 1))
        await fake.wait_idle()
    assert report.error is None
    assert report.fetched == ["2024-01", "2024-02", "2024-03"]
    assert [r.status for r in fake.faults.requests if month in r.path_qs][-1] == 200
    assert (3.0 in sleeps.waits) == (kind == "429")
    assert _message_ids(store) == [f"<m{n}@example.org>" for n in range(1, 6)]
    assert store.stats()["messages"] == 5
