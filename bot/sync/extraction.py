"""The optional concern extractor's job: posts of active discussions, asked about once.

With ``[concerns] extractor = "summarizer"``, `quorum run` runs this every
``EXTRACTOR_EVERY`` (bot/app.py). A run reads, on the reader thread, which posts
of the discussions active within ``rfcs.quiet_after_days`` (the RFC views,
newest first) have not been asked about with this model and prompt version
(:func:`pending`); asks the endpoint about at most
``concerns.extractor_posts_per_run`` of them, one at a time, on the event loop;
and stores each answer by one short job on the writer, so a delivery's commit
never waits for the model. A post whose request was already answered (the same
text asked for another post) is linked to that answer without asking.

The stored answers reach the ledger when the views are next refreshed (the
cache's triggers mark their threads changed). When the endpoint fails, the run
stops with one warning (never the key); the posts left are asked on the next
run, and their concerns are what the cue reader found until then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import aiohttp

from bot.adapters.concern_extractor import Extracted, ExtractorUnavailable, extract
from bot.config import Config
from bot.core.concern_extraction import (
    UNREADABLE,
    ExtractionRequest,
    extraction_requests,
    verify,
)
from bot.core.rfcs import RfcSettings
from bot.features.concerns import extractor_identity, ledger_settings
from bot.model import Post
from bot.store import Store, to_text
from bot.store import concern_extractions as extraction_store
from bot.store.concern_extractions import Answer, Link
from bot.sync import DbCall

logger = logging.getLogger(__name__)

EXTRACTOR_EVERY = timedelta(minutes=10)
# A post with nothing to ask (the proposer's, automated, not on a development list): its
# link says so, so that it is not looked at again.
NOTHING_TO_ASK = ""


@dataclass
class Pending:
    """What a run will do: ask about ``ask``, and link ``links`` without asking."""

    ask: list[ExtractionRequest] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


@dataclass
class ExtractionRun:
    """What one run did, for the log and the tests."""

    asked: int = 0
    linked: int = 0
    kept: int = 0
    dropped: int = 0
    unreadable: int = 0
    left: int = 0
    failure: str | None = None

    @property
    def stored(self) -> bool:
        return bool(self.asked or self.linked)

    def count(self, answer: Answer, *, asked: bool = True) -> None:
        self.asked += asked
        self.kept += answer.kept
        self.dropped += answer.dropped
        self.unreadable += answer.outcome == UNREADABLE


def pending(store: Store, config: Config, now: datetime, limit: int) -> Pending:
    """The posts of active discussions not yet asked about, newest discussion first."""
    identity = extractor_identity(config)
    plan = Pending()
    if identity is None:
        return plan
    since = to_text(now - timedelta(days=config.rfcs.quiet_after_days))
    for head in extraction_store.heads_with_unasked_posts(store, since, *identity):
        posts = store.posts_in_rfc(head)
        fresh = set(extraction_store.unasked(store, [p.key for p in posts], *identity))
        if fresh and not _plan_thread(store, config, identity, posts, fresh, plan, limit):
            break
    return plan


def requests_for(config: Config, posts: Sequence[Post]) -> list[ExtractionRequest]:
    """What the extractor sends for one discussion's posts on development lists."""
    lists = RfcSettings(lists=frozenset(n.strip("<> ").casefold() for n in config.rfcs.lists))
    on_list = {post.key for post in posts if lists.is_development_list(post.list_id)}
    return [r for r in extraction_requests(posts, ledger_settings(config)) if r.post in on_list]


def answer_of(request: ExtractionRequest, extracted: Extracted) -> Answer:
    """What is cached of an answer: the proposals as given, and how many the post bears out."""
    checked = verify(request.units, extracted.proposals)
    proposals = tuple(p.to_dict() for p in extracted.proposals)
    return Answer(request.digest, extracted.outcome, proposals, len(checked.kept), checked.dropped)


def _plan_thread(
    store: Store,
    config: Config,
    identity: tuple[str, str],
    posts: Sequence[Post],
    fresh: set[str],
    plan: Pending,
    limit: int,
) -> bool:
    """Add one discussion's unasked posts to the plan; False once ``limit`` is reached."""
    requests = [r for r in requests_for(config, posts) if r.post in fresh]
    answered = extraction_store.answered(store, [r.digest for r in requests], *identity)
    asking = {r.digest for r in plan.ask}
    for request in requests:
        if request.digest in answered:
            plan.links.append(Link(request.post, request.digest))
        elif request.digest in asking:
            continue  # the same text twice in one run: linked once its answer is stored
        elif len(plan.ask) < limit:
            plan.ask.append(request)
            asking.add(request.digest)
        else:
            return False
    sent = {r.post for r in requests}
    plan.links += [Link(key, NOTHING_TO_ASK) for key in sorted(fresh - sent)]
    return True


class ConcernExtractor:
    """The scheduled job: ``read`` and ``db`` are the app's reader and writer calls."""

    def __init__(self, config: Config, read: DbCall, db: DbCall) -> None:
        identity = extractor_identity(config)
        if identity is None:
            raise ValueError("the concern extractor is off in this configuration")
        self.config = config
        self.model, self.prompt = identity
        self._read = read
        self._db = db

    async def run(self, now: datetime) -> ExtractionRun:
        limit = self.config.concerns.extractor_posts_per_run
        plan = await self._read(lambda store: pending(store, self.config, now, limit))
        result = ExtractionRun(linked=sum(1 for link in plan.links if link.digest))
        if plan.links:
            await self._db(
                lambda store: extraction_store.link(store, plan.links, self.model, self.prompt)
            )
        if plan.ask:
            async with aiohttp.ClientSession() as session:
                await self._ask(plan.ask, session, now, result)
        if result.asked:
            logger.info(
                "concern extractor: asked about %d post(s): %d concern(s) kept, %d dropped"
                " (not said word for word in the post), %d answer(s) unreadable",
                result.asked,
                result.kept,
                result.dropped,
                result.unreadable,
            )
        return result

    async def _ask(
        self,
        requests: list[ExtractionRequest],
        session: aiohttp.ClientSession,
        now: datetime,
        result: ExtractionRun,
    ) -> None:
        for index, request in enumerate(requests):
            try:
                extracted = await extract(request, self.config.summarizer, session=session)
            except ExtractorUnavailable as failure:
                result.failure, result.left = str(failure), len(requests) - index
                logger.warning(
                    "concern extractor: %s; %d post(s) wait for the next run, their concerns"
                    " are what the cues found until then",
                    failure,
                    result.left,
                )
                return
            answer = answer_of(request, extracted)
            links = [Link(request.post, request.digest)]
            await self._db(
                partial(
                    extraction_store.record,
                    answer=answer,
                    links=links,
                    model=self.model,
                    prompt=self.prompt,
                    at=to_text(now),
                )
            )
            result.count(answer)
            if extracted.outcome == UNREADABLE:
                logger.info("concern extractor: %s (post %s)", extracted.reason, request.post)
