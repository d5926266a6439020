"""The optional summarizer: it may improve a summary's wording, never lose or block one.

Every call goes over loopback to tests.fakes.openai.FakeOpenAI, and the tests assert on
what crossed the wire as well as on what came back.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import aiohttp
import pytest
from pydantic import ValidationError

from bot.adapters import summarizer
from bot.adapters.summarizer import (
    SYSTEM_PROMPT,
    SummarizerConfig,
    missing_terms,
    required_terms,
    required_terms_in_text,
    rewrite_summary,
    rewrite_summary_sync,
)
from bot.config import Config
from bot.core.summary import ConcernLine, Participant, Summary
from bot.features.concerns import render_summary
from tests.fakes.openai import DEFAULT_KEY, DEFAULT_MODEL, ECHO_PREFIX, ChatRequest, FakeOpenAI

KEY_ENV = "QUORUM_TEST_SUMMARIZER_KEY"
LOGGER = "bot.adapters.summarizer"


def _concern(
    concern_id: str,
    raised_by: str,
    *,
    state: str,
    answered_by: tuple[str, ...] = (),
    resolved_by: str | None = None,
) -> ConcernLine:
    return ConcernLine(
        id=concern_id,
        title=concern_id.replace("-", " ").capitalize(),
        text=f"I am concerned about {concern_id.replace('-', ' ')}.",
        raised_by=raised_by,
        raised_at=datetime(2024, 3, 2, 9, 30, tzinfo=UTC),
        post=f"<{concern_id}@example.org>",
        link=f"<{concern_id}@example.org>",
        source="detected",
        state=state,
        answered=bool(answered_by),
        answered_by=answered_by,
        answer_posts=tuple(f"<answer-{i}@example.org>" for i in range(len(answered_by))),
        resolved_by=resolved_by,
        resolved_post="<resolved@example.org>" if resolved_by else None,
        open_days=None if resolved_by else 5,
        repeats=0,
    )


def _participant(name: str, posts: int, raised: int) -> Participant:
    return Participant(name, f"{name.split()[0].lower()}@example.org", posts, _DAY, raised)


_DAY = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
SUMMARY = Summary(
    thread="<rfc-cache@example.org>",
    subject="[RFC] A shared cache for resolved artifacts",
    proposer="Alice Archer",
    proposed_at=_DAY,
    proposal="I propose a shared cache for resolved artifacts.",
    posts=5,
    last_at=datetime(2024, 3, 4, 17, 0, tzinfo=UTC),
    open_concerns=(
        _concern("thread-safety", "Bob Baker", state="answered", answered_by=("Alice Archer",)),
    ),
    resolved_concerns=(
        _concern(
            "migration-plan",
            "Carol Chen",
            state="resolved",
            answered_by=("Dan Dietrich",),
            resolved_by="Carol Chen",
        ),
    ),
    withdrawn_concerns=(),
    participants=(
        _participant("Alice Archer", 2, 0),
        _participant("Bob Baker", 1, 1),
        _participant("Carol Chen", 1, 1),
        _participant("Dan Dietrich", 1, 0),
    ),
    generated_at=datetime(2024, 3, 7, 12, 0, tzinfo=UTC),
)
# The summary as `quorum summary` prints it and a mail carries it, signature included.
TEXT = render_summary(SUMMARY, Config())
BODY = TEXT[: TEXT.index("\n-- \n") + 1]
SIGNATURE = TEXT[len(BODY) :]
PROSE = (
    "On 2024-03-01 Alice Archer proposed a shared cache for resolved artifacts. "
    "Bob Baker's concern [thread-safety] was answered by Alice Archer and waits for his "
    "confirmation. Carol Chen's concern [migration-plan], answered by Dan Dietrich, is resolved."
)


REWRITTEN = f"{PROSE}\n\n{SIGNATURE}"


def _prose(_: ChatRequest) -> str:
    return PROSE


def _config(fake: FakeOpenAI, **changes: object) -> SummarizerConfig:
    settings: dict[str, object] = {
        "enabled": True,
        "url": fake.base_url,
        "model": DEFAULT_MODEL,
        "api_key_env": KEY_ENV,
        "timeout_seconds": 3.0,
    }
    settings.update(changes)
    return SummarizerConfig.model_validate(settings)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(responder=_prose) as server:
        yield server


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(KEY_ENV, DEFAULT_KEY)
    return DEFAULT_KEY


@pytest.fixture(autouse=True)
def short_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests check when a retry happens, not how long the fixed pause is.
    monkeypatch.setattr(summarizer, "RETRY_DELAY_SECONDS", 0.05)


@pytest.fixture(autouse=True)
def no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    yield
    assert DEFAULT_KEY not in caplog.text


def _fell_back(caplog: pytest.LogCaptureFixture, words: str) -> bool:
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    return any(words in w and "keeping the original summary" in w for w in warnings)


# -- off by default -----------------------------------------------------------------


async def test_off_by_default_sends_nothing(fake: FakeOpenAI) -> None:
    config = SummarizerConfig(url=fake.base_url, model=DEFAULT_MODEL)
    assert not SummarizerConfig().enabled
    assert await rewrite_summary(TEXT, config) == TEXT
    assert rewrite_summary_sync(TEXT, config) == TEXT
    assert fake.requests == []


# -- the happy path -------------------------------------------------------------------


async def test_rewrite_sends_model_messages_and_bearer_key(fake: FakeOpenAI) -> None:
    config = _config(fake, temperature=0.3, max_tokens=500)
    assert await rewrite_summary(TEXT, config) == REWRITTEN
    [sent] = fake.requests
    assert (sent.method, sent.path, sent.status) == ("POST", "/v1/chat/completions", 200)
    assert sent.authorization == f"Bearer {DEFAULT_KEY}"
    assert sent.body == {
        "model": DEFAULT_MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": BODY},
        ],
        "temperature": 0.3,
        "max_tokens": 500,
    }


async def test_without_a_signature_the_rewrite_is_the_answer(fake: FakeOpenAI) -> None:
    assert await rewrite_summary(BODY, _config(fake)) == PROSE
    fake.responder = lambda request: ECHO_PREFIX + request.user_content
    assert await rewrite_summary(BODY, _config(fake)) == ECHO_PREFIX + BODY.strip()
    assert [r.body["messages"][1]["content"] for r in fake.requests if r.body] == [BODY, BODY]


def test_the_prompt_asks_to_keep_ids_names_and_dates() -> None:
    for words in ("concern id", "square brackets", "name", "date", "not invent", "plain text"):
        assert words in SYSTEM_PROMPT


async def test_a_given_session_is_used_and_left_open(fake: FakeOpenAI) -> None:
    async with aiohttp.ClientSession() as session:
        assert await rewrite_summary(TEXT, _config(fake), session=session) == REWRITTEN
        assert not session.closed
    assert len(fake.requests) == 1


async def test_sync_wrapper_runs_its_own_loop(fake: FakeOpenAI) -> None:
    # In a thread, as the CLI would call it, while this loop keeps serving the fake.
    assert await asyncio.to_thread(rewrite_summary_sync, TEXT, _config(fake)) == REWRITTEN
    assert len(fake.requests) == 1


# -- retries --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["500", "reset"])
async def test_one_retry_after_a_server_error_or_dropped_connection(
    fake: FakeOpenAI, kind: str
) -> None:
    fake.fail_next(1, kind)  # type: ignore[arg-type]
    assert await rewrite_summary(TEXT, _config(fake)) == REWRITTEN
    assert [r.fault for r in fake.requests] == [kind, None]
    assert fake.requests[-1].status == 200


async def test_two_server_errors_fall_back_after_one_retry(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(2, "500")
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert [r.status for r in fake.requests] == [500, 500]
    assert _fell_back(caplog, "HTTP 500")


@pytest.mark.parametrize("seconds", [0, 1])
async def test_429_waits_for_retry_after_then_retries(fake: FakeOpenAI, seconds: int) -> None:
    fake.fail_next(1, "429", retry_after=seconds)
    assert await rewrite_summary(TEXT, _config(fake)) == REWRITTEN
    first, second = fake.requests
    assert (first.status, second.status) == (429, 200)
    # A lower bound on the pause (that Retry-After was honoured), not a speed check.
    assert second.time - first.time >= seconds * 0.95


async def test_429_twice_falls_back(fake: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail_next(2, "429", retry_after=0)
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert [r.status for r in fake.requests] == [429, 429]
    assert _fell_back(caplog, "rate_limit_exceeded")


async def test_a_retry_after_beyond_the_timeout_is_not_waited_for(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(1, "429", retry_after=3600)
    assert await rewrite_summary(TEXT, _config(fake, timeout_seconds=1.0)) == TEXT
    assert len(fake.requests) == 1
    assert _fell_back(caplog, "overrun the timeout")


async def test_other_client_errors_are_not_retried(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    assert await rewrite_summary(TEXT, _config(fake, model="no-such-model")) == TEXT
    assert [r.status for r in fake.requests] == [404]
    assert _fell_back(caplog, "model_not_found")


# -- answers that are not used ---------------------------------------------------------


async def test_slow_beyond_the_timeout_keeps_the_original(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(1, "slow", delay=2.0)
    assert await rewrite_summary(TEXT, _config(fake, timeout_seconds=0.2)) == TEXT
    assert len(fake.requests) == 1  # a timeout spends the budget: no retry
    assert _fell_back(caplog, "no answer within 0.2 s")


async def test_a_rewrite_that_drops_a_concern_id_keeps_the_original(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.responder = lambda _: PROSE.replace("[migration-plan]", "the migration plan")
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert _fell_back(caplog, "dropped [migration-plan]")


async def test_a_rewrite_that_drops_a_name_keeps_the_original(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.responder = lambda _: PROSE.replace(", answered by Dan Dietrich,", "")
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert _fell_back(caplog, "dropped Dan Dietrich")


async def test_malformed_json_keeps_the_original(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next(1, "bad-json")
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert len(fake.requests) == 1
    assert _fell_back(caplog, "malformed JSON")


async def test_an_empty_answer_keeps_the_original(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.responder = lambda _: "   "
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert _fell_back(caplog, "empty rewrite")


async def test_an_answer_cut_off_at_max_tokens_keeps_the_original(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    # Even if the cut happened to keep every id and name, half a summary misleads.
    fake.responder = lambda _: PROSE + " More words follow here."
    limit = len(PROSE.split()) + 1
    assert await rewrite_summary(TEXT, _config(fake, max_tokens=limit)) == TEXT
    assert _fell_back(caplog, "cut off at max_tokens")


async def test_an_unreachable_endpoint_keeps_the_original(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeOpenAI() as gone:
        url = gone.base_url  # a port that was just free and is closed again
    config = SummarizerConfig(enabled=True, url=url, model=DEFAULT_MODEL, api_key_env=KEY_ENV)
    assert await rewrite_summary(TEXT, config) == TEXT
    assert _fell_back(caplog, "cannot reach")


# -- the API key ------------------------------------------------------------------------
# Without the variable, the request goes out without an Authorization header: local
# servers (Ollama, llama.cpp) need none. An endpoint that does answers 401, and the
# original is kept with a warning naming the variable; a 401 is never retried.


async def test_no_key_and_an_open_endpoint_rewrites(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    async with FakeOpenAI(api_keys=None, responder=_prose) as local:
        assert await rewrite_summary(TEXT, _config(local)) == REWRITTEN
        [sent] = local.requests
    assert sent.authorization is None


async def test_no_key_and_an_endpoint_that_needs_one_keeps_the_original(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(KEY_ENV)
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    [sent] = fake.requests
    assert (sent.authorization, sent.status) == (None, 401)
    assert _fell_back(caplog, f"${KEY_ENV} is not set")


async def test_a_refused_key_is_never_logged(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # OpenAI's 401 message repeats a short key in full; the warning must not pass it on.
    monkeypatch.setenv(KEY_ENV, "hunter2")
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    [sent] = fake.requests
    assert (sent.authorization, sent.status) == ("Bearer hunter2", 401)
    assert _fell_back(caplog, "invalid_api_key")
    assert "hunter2" not in caplog.text


async def test_a_key_with_a_newline_is_not_sent(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-one\nInjected: header")
    assert await rewrite_summary(TEXT, _config(fake)) == TEXT
    assert fake.requests == []
    assert "Injected" not in caplog.text


# -- what a rewrite must keep -------------------------------------------------------------


def test_terms_read_from_the_text_match_the_summary() -> None:
    expected = {
        "[thread-safety]",
        "[migration-plan]",
        "Alice Archer",
        "Bob Baker",
        "Carol Chen",
        "Dan Dietrich",
    }
    assert required_terms(SUMMARY) == expected
    # Guards the regexes against a change to templates/email/summary.txt.j2.
    assert required_terms_in_text(TEXT) == expected
    assert "Written by quorum" in SIGNATURE


def test_missing_terms_ignore_case_and_spacing() -> None:
    assert (
        missing_terms("ALICE\n archer said [Thread-Safety]", {"Alice Archer", "[thread-safety]"})
        == []
    )
    assert missing_terms("Alice said so", {"Alice Archer", "[x]"}) == ["Alice Archer", "[x]"]


async def test_explicit_keep_terms_are_checked(fake: FakeOpenAI) -> None:
    config = _config(fake)
    assert await rewrite_summary(TEXT, config, keep={"Erin Evans"}) == TEXT
    assert await rewrite_summary(TEXT, config, keep=required_terms(SUMMARY)) == REWRITTEN


# -- the fake itself ------------------------------------------------------------------------


async def test_the_fake_answers_in_openai_shapes(fake: FakeOpenAI) -> None:
    auth = {"Authorization": f"Bearer {DEFAULT_KEY}"}
    request = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "Hi there"}]}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.base_url}/models", headers=auth) as response:
            models = await response.json()
        async with session.post(
            f"{fake.base_url}/chat/completions", json=request, headers=auth
        ) as response:
            completion = await response.json()
        async with session.post(f"{fake.base_url}/chat/completions", json=request) as response:
            refused = (response.status, await response.json())
    assert models["object"] == "list"
    assert [(m["id"], m["object"]) for m in models["data"]] == [(DEFAULT_MODEL, "model")]
    assert completion["id"].startswith("chatcmpl-")
    assert (completion["object"], completion["model"]) == ("chat.completion", DEFAULT_MODEL)
    [choice] = completion["choices"]
    assert (choice["index"], choice["finish_reason"]) == (0, "stop")
    assert choice["message"]["role"] == "assistant"
    usage = completion["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    status, body = refused
    assert status == 401
    assert set(body["error"]) == {"message", "type", "param", "code"}


# -- configuration ---------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = SummarizerConfig()
    assert (config.enabled, config.api_key_env) == (False, "QUORUM_SUMMARIZER_API_KEY")
    assert (config.timeout_seconds, config.max_tokens, config.temperature) == (30, 800, 0.2)


def test_config_as_toml_gives_it() -> None:
    config = SummarizerConfig.model_validate(
        {"enabled": True, "url": "https://api.example.org/v1/", "model": "m", "timeout_seconds": 5}
    )
    assert config.url == "https://api.example.org/v1"


@pytest.mark.parametrize(
    "settings",
    [
        {"enabled": True},  # no model
        {"model": "m", "api_key": "sk-secret"},  # unknown key; secrets never in the file
        {"model": "m", "api_key_env": "not a name"},
        {"model": "m", "url": "127.0.0.1:11434/v1"},
        {"model": "m", "timeout_seconds": 0},
        {"model": "m", "max_tokens": "800"},  # strict: no string coercion
    ],
)
def test_config_rejects(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SummarizerConfig.model_validate(settings)


async def test_quorum_summary_prints_the_rewrite_from_the_configured_endpoint(tmp_path):
    """End to end: `quorum summary` with [summarizer] enabled prints the endpoint's rewrite."""
    import asyncio
    import sys

    from tests.fakes.openai import DEFAULT_KEY, DEFAULT_MODEL, FakeOpenAI
    from tests.test_cli import ROOT, SAMPLE, quorum

    db = tmp_path / "q.db"
    await asyncio.to_thread(quorum, "import", str(SAMPLE), db=db, check=True)
    fake = FakeOpenAI(responder=lambda chat: "Fluent prose. " + chat.user_content)
    url = await fake.start()
    try:
        config = tmp_path / "q.toml"
        config.write_text(
            f'[summarizer]\nenabled = true\nurl = "{url}"\nmodel = "{DEFAULT_MODEL}"\n'
        )
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "--config", str(config), "--db", str(db)),
            *("summary", "Pluggable storage", "--now", "2026-11-20"),
            cwd=ROOT,
            env={**os.environ, "QUORUM_SUMMARIZER_API_KEY": DEFAULT_KEY},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        await fake.stop()
    assert process.returncode == 0, stderr.decode()
    assert stdout.decode().startswith("Fluent prose. ")
    assert "[the-object-store-backend-doubles-our]" in stdout.decode()
    assert len(fake.completions) == 1
