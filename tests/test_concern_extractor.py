"""The optional concern extractor: a language model may propose concerns, never invent them.

End to end over loopback: a real store, the app's scheduled job, the loopback fake of an
OpenAI-compatible endpoint (tests.fakes.openai.FakeOpenAI, scripted per request and
misbehaving on request), and `quorum concerns --json` reading what a user reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app import App
from bot.cli import cli
from bot.config import ConcernsConfig, Config, load_config
from bot.core.concern_extraction import (
    PROMPT_VERSION,
    Proposal,
    extraction_requests,
    read_answer,
    verify,
)
from bot.core.concerns import ConcernSource, LedgerSettings, Proposed, build_ledger
from bot.core.mail import Envelope, parse_mail
from bot.core.prose import units_of
from bot.errors import ConfigError
from bot.features import views
from bot.features.concerns import ledger_of
from bot.model import Post
from bot.store import Store
from bot.store import concern_extractions as extraction_store
from bot.store.concern_extractions import Answer, Link
from tests.fakes.openai import DEFAULT_KEY, DEFAULT_MODEL, FakeOpenAI
from tests.mailgen import raw_mail

KEY_ENV = "QUORUM_TEST_EXTRACTOR_KEY"
# Recent, so that the discussion is active for the job and for `quorum concerns`.
NOW = datetime.now(UTC).replace(microsecond=0)
ROOT_ID = "<rfc-resolver@example.org>"
REPLY_ID = "<bob-resolver@example.org>"
SUBJECT = "[RFC] Pluggable artifact resolver"

# What the cue reader finds nothing in: a consequence stated flatly, no "I am concerned".
FREEZE = (
    "A plugin API makes every release depend on the resolver's internal classes staying"
    " as they are."
)
REPLY = """Hi Alice,

Thanks for writing this up. A plugin API makes every release depend on the
resolver's internal classes staying as they are.

Also the docs should get a new page.

> The resolver stays fast.
> This will break every build we have.

```
resolver.load()  // this will break every build we have
```

Bob
"""
# An answer with one verbatim quote (re-wrapped, in other case) and two the post does not
# say: one invented, one from the text it quotes of someone else.
ANSWER = json.dumps(
    {
        "concerns": [
            {
                "quote": "a plugin API makes every release depend on the resolver's  internal",
                "title": "Plugin API freezes internal classes",
            },
            {"quote": "The resolver will be slower than today.", "title": "Speed"},
            {"quote": "This will break every build we have.", "title": "Breaks builds"},
        ]
    }
)


def _date(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _thread() -> list[bytes]:
    root = raw_mail(
        "I propose that we make the artifact resolver pluggable, so that plugins\n"
        "can replace how Maven finds artifacts.\n\nAlice\n",
        subject=SUBJECT,
        message_id=ROOT_ID,
        sender="Alice Archer <alice@example.org>",
        date=_date(NOW - timedelta(days=2)),
    )
    reply = raw_mail(
        REPLY,
        subject=f"Re: {SUBJECT}",
        message_id=REPLY_ID,
        sender="Bob Baker <bob@example.org>",
        date=_date(NOW - timedelta(days=1)),
        extra=f"In-Reply-To: {ROOT_ID}\nReferences: {ROOT_ID}",
    )
    return [root, reply]


def _store_thread(db: Path) -> None:
    store = Store.open(db)
    try:
        store.ingest([(parse_mail(raw, Envelope(arrived_at=NOW)), raw) for raw in _thread()])
    finally:
        store.close()


def _config(url: str, **concerns: Any) -> Config:
    return Config.model_validate(
        {
            "smtp": {"enabled": False},
            "web": {"enabled": False},
            "concerns": {"extractor": "summarizer", **concerns},
            "summarizer": {
                "url": url,
                "model": DEFAULT_MODEL,
                "api_key_env": KEY_ENV,
                "timeout_seconds": 2,
            },
        }
    )


def _config_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "quorum.toml"
    path.write_text(
        "[smtp]\nenabled = false\n[web]\nenabled = false\n"
        '[concerns]\nextractor = "summarizer"\n'
        f'[summarizer]\nurl = "{url}"\nmodel = "{DEFAULT_MODEL}"\napi_key_env = "{KEY_ENV}"\n'
    )
    return path


async def _run_job(config: Config, db: Path) -> Any:
    app = App(config, db, clock=lambda: NOW)
    await app.start()
    try:
        return await app.run_extractor(NOW)
    finally:
        await app.stop()


def _concerns_json(config_file: Path, db: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["--config", str(config_file), "--db", str(db), "concerns", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(retry_after=0) as server:
        yield server


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, DEFAULT_KEY)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "quorum.db"
    _store_thread(path)
    return path


def _cache_the_answer(store: Store, *, linked: bool = True) -> None:
    """ANSWER's verbatim proposal cached for the reply, as the job would store it."""
    [request] = [
        r
        for r in extraction_requests(store.posts_in_rfc(ROOT_ID), LedgerSettings())
        if r.post == REPLY_ID
    ]
    answer = Answer(request.digest, "ok", (json.loads(ANSWER)["concerns"][0],), 1, 0)
    links = [Link(REPLY_ID, request.digest)] if linked else []
    extraction_store.record(store, answer, links, DEFAULT_MODEL, PROMPT_VERSION, "now")


# --------------------------------------------------------------------------
# End to end: the job, the cache, `quorum concerns --json`
# --------------------------------------------------------------------------


async def test_a_verbatim_proposal_is_a_concern_and_invented_ones_are_dropped(
    fake: FakeOpenAI, db: Path, tmp_path: Path
):
    fake.answer_next(ANSWER)
    run = await _run_job(_config(fake.base_url), db)
    assert (run.asked, run.kept, run.dropped) == (1, 1, 2)

    [concern] = _concerns_json(_config_file(tmp_path, fake.base_url), db)
    assert concern["source"] == "extracted"
    assert concern["raised_by"] == "Bob Baker"
    assert concern["message_id"] == REPLY_ID
    assert concern["title"] == "Plugin API freezes internal classes"
    # The concern's text is the post's own sentence, not the model's rewording of it.
    assert concern["sentences"] == [FREEZE]
    assert concern["state"] == "open"


async def test_what_is_sent_is_the_posts_own_prose_with_its_parent_as_context(
    fake: FakeOpenAI, db: Path
):
    fake.answer_next(ANSWER)
    await _run_job(_config(fake.base_url), db)

    [request] = fake.completions  # the proposer's opening post is not sent
    assert request.authorization == f"Bearer {DEFAULT_KEY}"
    body = request.body or {}
    assert body["model"] == DEFAULT_MODEL
    assert body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    user = body["messages"][-1]["content"]
    assert "Proposed by: Alice Archer" in user
    assert "This post is by: Bob Baker" in user
    assert "so that plugins can replace how Maven finds artifacts" in user  # the parent
    assert FREEZE in user
    # Neither what it quotes of others nor its code is its own prose.
    assert "This will break every build" not in user
    assert "resolver.load()" not in user


async def test_a_second_run_sends_nothing(fake: FakeOpenAI, db: Path):
    fake.answer_next(ANSWER)
    config = _config(fake.base_url)
    await _run_job(config, db)
    assert len(fake.completions) == 1

    again = await _run_job(config, db)
    assert len(fake.completions) == 1
    assert again.asked == 0


async def test_a_text_already_answered_is_not_asked_again_for_another_post(
    fake: FakeOpenAI, db: Path, tmp_path: Path
):
    # The answer is cached under the digest of what would be sent, with no post linked
    # to it yet (as when the same words were asked about for another post).
    store = Store.open(db)
    try:
        _cache_the_answer(store, linked=False)
    finally:
        store.close()

    run = await _run_job(_config(fake.base_url), db)

    assert fake.completions == []
    assert run.linked == 1
    [concern] = _concerns_json(_config_file(tmp_path, fake.base_url), db)
    assert concern["sentences"] == [FREEZE]


async def test_an_unreadable_answer_is_kept_and_not_asked_again(fake: FakeOpenAI, db: Path):
    fake.answer_next("Sure! The main concern is the plugin API.")
    config = _config(fake.base_url)
    first = await _run_job(config, db)
    assert (first.asked, first.unreadable, first.kept) == (1, 1, 0)

    await _run_job(config, db)
    assert len(fake.completions) == 1


async def test_an_endpoint_failure_leaves_the_cue_ledger_and_warns_once_without_the_key(
    fake: FakeOpenAI, db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    config_file = _config_file(tmp_path, fake.base_url)
    before = _concerns_json(config_file, db)
    caplog.set_level(logging.DEBUG)
    fake.fail_next(2, "500")  # the first attempt and its one retry

    run = await _run_job(_config(fake.base_url), db)

    assert run.asked == 0
    assert run.left == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "concern extractor: HTTP 500" in warnings[0]
    assert DEFAULT_KEY not in caplog.text
    assert _concerns_json(config_file, db) == before
    # Nothing was cached: the next run asks again, and succeeds.
    fake.answer_next(ANSWER)
    retry = await _run_job(_config(fake.base_url), db)
    assert retry.kept == 1


async def test_a_rate_limit_is_waited_out_once(fake: FakeOpenAI, db: Path):
    fake.fail_next(1, "429", retry_after=0)
    fake.answer_next(ANSWER)
    run = await _run_job(_config(fake.base_url), db)
    assert run.kept == 1
    assert [r.status for r in fake.completions] == [429, 200]


async def test_a_slow_endpoint_is_given_up_on_within_its_timeout(fake: FakeOpenAI, db: Path):
    fake.fail_next(1, "slow", delay=3)
    run = await _run_job(_config(fake.base_url), db)
    await fake.wait_idle()
    assert run.failure == "no answer within 2 s"
    assert run.asked == 0


async def test_posts_per_run_are_bounded(fake: FakeOpenAI, tmp_path: Path):
    db = tmp_path / "many.db"
    store = Store.open(db)
    raws = _thread()
    for n in range(3):
        raws.append(
            raw_mail(
                f"Reply {n}: the migration path is unclear to me for plugin number {n}.\n",
                subject=f"Re: {SUBJECT}",
                message_id=f"<more-{n}@example.org>",
                sender=f"Member {n} <m{n}@example.org>",
                date=_date(NOW - timedelta(hours=10 - n)),
                extra=f"In-Reply-To: {ROOT_ID}\nReferences: {ROOT_ID}",
            )
        )
    store.ingest([(parse_mail(raw, Envelope(arrived_at=NOW)), raw) for raw in raws])
    store.close()
    config = _config(fake.base_url, extractor_posts_per_run=2)

    first = await _run_job(config, db)
    second = await _run_job(config, db)
    third = await _run_job(config, db)

    assert (first.asked, second.asked, third.asked) == (2, 2, 0)
    assert len(fake.completions) == 4


async def test_the_job_exists_only_when_the_extractor_is_on(fake: FakeOpenAI, db: Path):
    config = Config.model_validate({"smtp": {"enabled": False}, "web": {"enabled": False}})
    app = App(config, db, clock=lambda: NOW)
    assert "concern-extractor" not in {job.name for job in app.jobs()}
    on = App(_config(fake.base_url), db, clock=lambda: NOW)
    assert "concern-extractor" in {job.name for job in on.jobs()}


# --------------------------------------------------------------------------
# The views: a change to the cache recomputes the RFC's view
# --------------------------------------------------------------------------


def test_the_rfc_view_recomputes_when_the_cache_gains_a_row(db: Path):
    config = _config("http://127.0.0.1:9/v1")
    store = Store.open(db)
    try:
        views.refresh(store, config, NOW)
        assert views.refresh(store, config, NOW).recomputed == 0

        _cache_the_answer(store)
        plan = views.refresh(store, config, NOW)

        assert [row.key for row in plan.rfcs] == [ROOT_ID]
        assert _view_sources(store) == ["extracted"]
    finally:
        store.close()


def test_another_model_recomputes_every_view_without_the_first_ones_proposals(db: Path):
    first = _config("http://127.0.0.1:9/v1")
    other = first.model_copy(
        update={"summarizer": first.summarizer.model_copy(update={"model": "another-model"})}
    )
    store = Store.open(db)
    try:
        _cache_the_answer(store)
        views.refresh(store, first, NOW)
        assert _view_sources(store) == ["extracted"]

        views.refresh(store, other, NOW)

        assert _view_sources(store) == []
    finally:
        store.close()


def _view_sources(store: Store) -> list[str]:
    [row] = store.db.execute("SELECT payload FROM rfc_views").fetchall()
    return [concern["source"] for concern in json.loads(row[0])["concern_list"]]


def test_an_edited_post_is_asked_again(db: Path):
    store = Store.open(db)
    try:
        links = [Link(REPLY_ID, "d1")]
        extraction_store.record(
            store, Answer("d1", "ok", ()), links, DEFAULT_MODEL, PROMPT_VERSION, "now"
        )
        assert extraction_store.unasked(store, [REPLY_ID], DEFAULT_MODEL, PROMPT_VERSION) == []
        with store.db.conn:
            store.db.execute("UPDATE posts SET text = 'Edited.' WHERE key = ?", [REPLY_ID])
        assert extraction_store.unasked(store, [REPLY_ID], DEFAULT_MODEL, PROMPT_VERSION) == [
            REPLY_ID
        ]
    finally:
        store.close()


def test_cached_proposals_are_ignored_while_the_extractor_is_off(db: Path):
    store = Store.open(db)
    try:
        thread = store.thread(ROOT_ID)
        assert thread is not None
        _cache_the_answer(store)

        on = _config("http://127.0.0.1:9/v1")
        off = on.model_copy(update={"concerns": ConcernsConfig(extractor="off")})

        assert [c.source for c in ledger_of(store, on, thread, NOW).concerns] == [
            ConcernSource.EXTRACTED
        ]
        assert ledger_of(store, off, thread, NOW).concerns == ()
    finally:
        store.close()


# --------------------------------------------------------------------------
# The pure rules
# --------------------------------------------------------------------------


def test_only_quotes_the_post_says_word_for_word_are_kept():
    units = units_of(
        "I like it.\n\nBut the cache key ignores the\nclassifier, so two jars collide.\n"
    )
    checked = verify(
        units,
        [
            Proposal("“the cache key IGNORES the classifier, so two jars collide”", "Key"),
            Proposal("the cache key ignores the classifier and the version", "Invented"),
            Proposal("I like", "Too short to mean anything"),
            Proposal("...ignores the classifier, so two jars", "Same sentence again"),
            Proposal("", "No quote"),
        ],
    )
    assert checked.kept == (
        Proposed("Key", ("But the cache key ignores the classifier, so two jars collide.",)),
    )
    assert checked.dropped == 3


def test_a_model_answer_is_read_leniently_but_only_as_json():
    fenced = '```json\n{"concerns": [{"quote": "a b c", "title": "t"}]}\n```'
    assert read_answer(fenced) == (Proposal("a b c", "t"),)
    assert read_answer('Here you go: {"concerns": []}') == ()
    assert read_answer('[{"quote": "a b c"}, 7]') == (Proposal("a b c"), Proposal(""))
    assert read_answer("The post raises no concern.") is None
    assert read_answer('{"answer": "none"}') is None


def _post(text: str, key: str, author: str, at: datetime, parent: str | None = None) -> Post:
    extra = f"In-Reply-To: {parent}\nReferences: {parent}" if parent else ""
    raw = raw_mail(
        text,
        subject=SUBJECT if parent is None else f"Re: {SUBJECT}",
        message_id=key,
        sender=author,
        date=_date(at),
        extra=extra,
    )
    post = parse_mail(raw, Envelope(arrived_at=NOW))
    # Threaded as the store threads it: the root keys its thread, replies join it.
    return replace(post, thread_key="<r@x>" if parent else key)


def test_a_proposal_on_a_sentence_the_cues_found_is_one_concern_and_is_answered_alike():
    day = NOW - timedelta(days=3)
    root = _post("I propose X.\n", "<r@x>", "Alice Archer <alice@example.org>", day)
    worry = "I am worried that this doubles the memory footprint."
    other = "This creates a second source of truth for the version number."
    reply = _post(
        f"{worry}\n\n{other}\n", "<b@x>", "Bob Baker <bob@example.org>", day, parent="<r@x>"
    )
    answer = _post(
        "> This creates a second source of truth for the version number.\n\nWe will drop it.\n",
        "<c@x>",
        "Alice Archer <alice@example.org>",
        day + timedelta(hours=2),
        parent="<b@x>",
    )
    posts = [root, reply, answer]
    cues = build_ledger("<r@x>", posts, NOW)
    proposed = {
        "<b@x>": (
            Proposed("Memory footprint doubles", (worry,)),
            Proposed("A second source of truth", (other,)),
        )
    }

    merged = build_ledger("<r@x>", posts, NOW, proposed=proposed)

    assert [c.sentences for c in cues.concerns] == [(worry,)]
    assert [(c.source, c.sentences) for c in merged.concerns] == [
        (ConcernSource.DETECTED, (worry,)),
        (ConcernSource.EXTRACTED, (other,)),
    ]
    extracted = merged.concerns[1]
    assert extracted.title == "A second source of truth"
    # Answered by the same rule as any concern: the proposer's reply quotes it.
    assert [ref.author for ref in extracted.answered_by] == ["Alice Archer"]


def test_the_extractor_needs_a_model_name(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text('[concerns]\nextractor = "summarizer"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert 'summarizer: value error, model is required when concerns.extractor is "summarizer"' in (
        str(error.value)
    )
