"""`python -m bench.judgement --extractor`: the extractor is scored apart, and a rerun is free.

The endpoint here is the loopback fake (tests.fakes.openai), answering with one
question of each post and one invented sentence: a plumbing check, not a figure of
how well any model reads (README: "Concerns by a language model (optional)").
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench import judgement
from bench._judgement_extractor import ENV_KEY, ENV_MODEL, ENV_URL
from tests.corpus import corpus_path
from tests.fakes.openai import ChatRequest, FakeOpenAI

MODEL = "eval-model"
INVENTED = "This proposal will certainly break every build."


def _questions(chat: ChatRequest) -> str:
    text = chat.user_content.split('THE POST TO READ:\n"""\n', 1)[1].rsplit('\n"""', 1)[0]
    sentences = re.split(r"(?<=[.?!])\s+", " ".join(text.split()))
    items = [{"quote": s, "title": "A question"} for s in sentences if s.endswith("?")][:1]
    items.append({"quote": INVENTED, "title": "Invented"})
    return json.dumps({"concerns": items})


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(api_keys=None, models=[MODEL], responder=_questions) as server:
        yield server


def test_without_an_endpoint_it_says_so_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    for name in (ENV_URL, ENV_MODEL, ENV_KEY):
        monkeypatch.delenv(name, raising=False)
    assert judgement.main(["--extractor", "--slice", judgement.OWN_SLICE]) == 2
    assert f"no extractor endpoint: set {ENV_URL} and {ENV_MODEL}" in capsys.readouterr().err


@pytest.mark.corpus
async def test_scores_three_readings_and_a_rerun_asks_nothing(
    fake: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    corpus_path("mbox")
    monkeypatch.setenv(ENV_URL, fake.base_url)
    monkeypatch.setenv(ENV_MODEL, MODEL)
    cache = tmp_path / "cache.db"
    args = ["--extractor", "--slice", judgement.OWN_SLICE, "--extractor-cache", str(cache)]

    # The harness runs its own event loop; the fake answers on this one.
    assert await asyncio.to_thread(judgement.main, args) == 0
    asked = len(fake.completions)
    first = capsys.readouterr().out
    assert await asyncio.to_thread(judgement.main, args) == 0
    second = capsys.readouterr().out

    assert asked > 10
    assert len(fake.completions) == asked
    assert "| scope | cues alone (ships) | extractor alone | merged |" in first
    sendable = int(re.search(r"(\d+) post\(s\) sent or sendable", first).group(1))  # type: ignore[union-attr]
    assert f", {asked} asked now" in first
    assert f"{sendable} answered from the cache, 0 asked now" in second
    # Every invented quote is dropped: one per post asked.
    dropped = int(re.search(r"(\d+) dropped", second).group(1))  # type: ignore[union-attr]
    assert dropped >= asked
    # The cues alone read exactly what `make eval` reads.
    plain = judgement.main(["--slice", judgement.OWN_SLICE, "--no-loco"])
    assert plain == 0
    cue_row = re.search(r"\| slice own \| (\d\.\d\d) \((\d+/\d+)\)", capsys.readouterr().out)
    assert cue_row is not None
    assert f"| slice own | {cue_row.group(1)} / " in second
