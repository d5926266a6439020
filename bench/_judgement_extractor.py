"""`python -m bench.judgement --extractor`: the optional concern extractor, scored apart.

Needs an OpenAI-compatible endpoint from the environment (never a default, never
part of the floors in tests/test_judgement.py):

- ``QUORUM_EVAL_EXTRACTOR_URL`` the API's base URL (``/chat/completions`` is appended),
  for example ``http://127.0.0.1:11434/v1`` for a local Ollama;
- ``QUORUM_EVAL_EXTRACTOR_MODEL`` the model's name there;
- ``QUORUM_EVAL_EXTRACTOR_KEY_ENV`` (optional) the NAME of the variable holding its key;
- ``QUORUM_EVAL_EXTRACTOR_TIMEOUT`` (optional) seconds per post, 120 by default.

Without URL and model it says so and exits 2. Every post of every labelled
discussion that the job would send (bot.sync.extraction.requests_for) is asked
about once per model and prompt version: answers are kept in a cache of their own,
``var/eval-extractions.db`` (``--extractor-cache``), so a rerun costs nothing and a
run stopped by a failing endpoint continues where it stopped.

Three readings of each slice are scored by FORMAT.md's rule: the cue reader alone
(what ships), the extractor alone (its checked proposals, each one detection of its
post), and both merged in the ledger (what a community with the extractor gets).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.judgement import (
    NOW,
    ROOT,
    SliceStore,
    Totals,
    evaluate,
    markdown,
    misses,
    score_slice,
    totals,
)
from bot.sync.extraction import ExtractionRun

DEFAULT_CACHE = ROOT / "var" / "eval-extractions.db"
DEFAULT_TIMEOUT = 120.0
ENV_URL = "QUORUM_EVAL_EXTRACTOR_URL"
ENV_MODEL = "QUORUM_EVAL_EXTRACTOR_MODEL"
ENV_KEY = "QUORUM_EVAL_EXTRACTOR_KEY_ENV"
ENV_TIMEOUT = "QUORUM_EVAL_EXTRACTOR_TIMEOUT"


def extractor_config() -> Any:
    """The configuration with the extractor on, from the environment; None without one."""
    from bot.config import Config

    url, model = os.environ.get(ENV_URL, "").strip(), os.environ.get(ENV_MODEL, "").strip()
    if not url or not model:
        return None
    summarizer: dict[str, Any] = {
        "url": url,
        "model": model,
        "timeout_seconds": float(os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT),
        "max_tokens": 1500,
    }
    if os.environ.get(ENV_KEY, "").strip():
        summarizer["api_key_env"] = os.environ[ENV_KEY].strip()
    concerns = {"extractor": "summarizer"}
    return Config.model_validate({"concerns": concerns, "summarizer": summarizer})


@dataclass
class Asked(ExtractionRun):
    """What extraction cost and gave over the slices: ``asked`` now, the rest cached."""

    posts: int = 0
    cached: int = 0


async def extract_slices(stores: list[SliceStore], config: Any, cache: Any) -> Asked:
    """Every request answered (from the cache, else the endpoint) and copied into its slice."""
    import aiohttp

    from bot.core.concern_extraction import PROMPT_VERSION
    from bot.store import concern_extractions as extraction_store
    from bot.store.concern_extractions import Link
    from bot.sync.extraction import requests_for

    identity = (config.summarizer.model, PROMPT_VERSION)
    asked = Asked()
    async with aiohttp.ClientSession() as session:
        for opened in stores:
            requests = [r for posts in opened.discussions() for r in requests_for(config, posts)]
            asked.posts += len(requests)
            digests = [r.digest for r in requests]
            known = {a.digest: a for a in extraction_store.answers(cache, digests, *identity)}
            for request in requests:
                answer = known.get(request.digest)
                if answer is not None:
                    asked.cached += 1
                    asked.count(answer, asked=False)
                elif asked.failure is None:
                    answer = await _ask(request, config, session, cache, identity, asked)
                if answer is None:
                    asked.left += 1
                    continue
                known[request.digest] = answer
                links = [Link(request.post, request.digest)]
                extraction_store.record(opened.store, answer, links, *identity, NOW.isoformat())
    return asked


async def _ask(
    request: Any, config: Any, session: Any, cache: Any, identity: tuple[str, str], asked: Asked
) -> Any:
    """The endpoint's answer, cached; None (and the failure noted) when it gives none."""
    from bot.adapters.concern_extractor import ExtractorUnavailable, extract
    from bot.store import concern_extractions as extraction_store
    from bot.sync.extraction import answer_of

    try:
        extracted = await extract(request, config.summarizer, session=session)
    except ExtractorUnavailable as failure:
        asked.failure = str(failure)
        return None
    answer = answer_of(request, extracted)
    extraction_store.record(cache, answer, [], *identity, NOW.isoformat())
    asked.count(answer)
    print(f"  asked {asked.asked}: {request.post}", file=sys.stderr)
    return answer


def extractor_only(opened: SliceStore, config: Any) -> list[dict[str, Any]]:
    """The checked proposals alone, each a detection of its post (no ledger around them)."""
    from bot.core.concerns import make_title
    from bot.features.concerns import proposed_for

    detections = []
    for posts in opened.discussions():
        by_key = {post.key: post for post in posts}
        for key, proposals in (proposed_for(opened.store, config, posts) or {}).items():
            post = by_key[key]
            for proposal in proposals:
                detections.append(
                    {
                        "raised_by": post.author.display,
                        "message_id": post.message_id,
                        "title": make_title(proposal.title or proposal.sentences[0]),
                        "text": " ".join(proposal.sentences),
                        "cue": "extractor",
                    }
                )
    return detections


def _reading(opened: SliceStore, concerns: list[dict[str, Any]]) -> Any:
    from bench.judgement import Reading

    posts: dict[str, set[str]] = defaultdict(set)
    for row in opened.store.db.query("SELECT thread_key, message_id FROM posts"):
        if row["message_id"]:
            posts[row["thread_key"]].add(row["message_id"])
    return Reading(concerns, [], dict(posts))


def _cell(total: Totals) -> str:
    return (
        f"{total.recall:.2f} / {total.precision:.2f}"
        f" ({total.found}/{total.labelled}, {total.right}/{total.detected})"
    )


def main_extractor(slices: list[Any], scratch: Path, cache_path: Path, show_misses: bool) -> int:
    from bot.store import Store

    config = extractor_config()
    if config is None:
        print(
            f"no extractor endpoint: set {ENV_URL} and {ENV_MODEL} (and {ENV_KEY}, the name"
            " of the variable holding its key, if it needs one)",
            file=sys.stderr,
        )
        return 2
    where = f"{config.summarizer.model} at {config.summarizer.url}"
    print(f"Concern extractor: {where}; cache {cache_path}\n", file=sys.stderr)
    cache = Store.open(cache_path)
    stores = [SliceStore(s, scratch) for s in slices]
    try:
        asked = asyncio.run(extract_slices(stores, config, cache))
        cues = evaluate(stores)
        merged = evaluate(stores, config=config)
        alone = {
            o.slice.name: score_slice(o.slice, _reading(o, extractor_only(o, config)))
            for o in stores
        }
        rows = []
        for name in cues.scores:
            rows.append(
                [
                    f"slice {name}",
                    _cell(totals(cues.scores[name])),
                    _cell(totals(alone[name])),
                    _cell(totals(merged.scores[name])),
                ]
            )
        every = [s for scores in alone.values() for s in scores]
        rows.append(
            [
                "all slices",
                _cell(totals(cues.all_scores())),
                _cell(totals(every)),
                _cell(totals(merged.all_scores())),
            ]
        )
        print(f"Concerns with the extractor ({where}), recall / precision:\n")
        header = ("scope", "cues alone (ships)", "extractor alone", "merged")
        print(markdown(header, rows))
        both = totals(merged.all_scores())
        print(
            f"\nMerged: {both.traps} non-concern hit(s); answered"
            f" {both.answered_right}/{both.answered_scored}, resolved"
            f" {both.resolved_right}/{both.resolved_scored} as labelled."
        )
        print(
            f"Extraction: {asked.posts} post(s) sent or sendable; {asked.cached} answered from"
            f" the cache, {asked.asked} asked now; {asked.unreadable} answer(s) unreadable;"
            f" {asked.kept} proposal(s) kept, {asked.dropped} dropped (quote not in the post)."
        )
        if asked.failure is not None:
            print(
                f"PARTIAL: the endpoint failed ({asked.failure}); {asked.left} post(s) not"
                " asked, scored without proposals. Run again to continue."
            )
        if show_misses:
            print()
            for line in misses(merged):
                print(line)
    finally:
        for opened in stores:
            opened.close()
        cache.close()
    return 1 if asked.failure is not None else 0
