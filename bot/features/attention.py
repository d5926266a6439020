"""What needs a person now (:mod:`bot.core.attention`), read from the store.

The digest's first section, `quorum attention` and the dashboard's front page
all call :func:`attention`, so they list the same things with the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import Config
from bot.core.attention import (
    CLOSING_WITHIN,
    Attention,
    BlockedConcern,
    VoteGlance,
    needs_attention,
)
from bot.core.concerns import ConcernState
from bot.core.reminders import Evaluation
from bot.core.rfcs import NOT_DISCUSSIONS, RfcSettings, is_rfc
from bot.features.concerns import ledger_of
from bot.features.links import archive_of
from bot.features.module_views import modules_as_of
from bot.features.reminders import DEFAULT_RESPONSIVENESS
from bot.features.views import rfc_settings
from bot.features.votes import vote_reports
from bot.model import Thread
from bot.store import Store, to_text
from bot.store import views as stored_views


def max_age(config: Config) -> timedelta:
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    return timedelta(days=section.max_age_days)


def attention(
    store: Store,
    config: Config,
    now: datetime,
    *,
    evaluation: Evaluation | None = None,
    current: bool = True,
    blocked_rfcs: int | None = None,
) -> Attention:
    """Everything that needs a person as of ``now`` (most urgent first).

    Reads the stored RFC and vote views, which must be current (`quorum run` keeps
    them so; `quorum attention` refreshes them first); ``current=False`` (as of
    another time) reads the recent threads instead. ``evaluation``: the modules'
    evaluation when the caller has it already (the digest). ``blocked_rfcs``: read the
    concerns of only that many blocked RFCs, the longest waiting (the dashboard, which
    links the rest).
    """
    oldest = now - max_age(config)
    if evaluation is None:
        evaluation = modules_as_of(store, config, now, current=current)
    return needs_attention(
        now,
        evaluation=evaluation,
        votes=_votes(store, config, now, oldest, current),
        concerns=(
            _blocked(store, config, now, blocked_rfcs)
            if current
            else _recent_open(store, config, now)
        ),
        archive=archive_of(config),
        max_age=max_age(config),
        zone=config.project.zone(),
    )


def _votes(
    store: Store, config: Config, now: datetime, oldest: datetime, current: bool
) -> list[VoteGlance]:
    """Votes open, or closed within the catch-up age (a RESULT may disagree)."""
    if not current:
        reports = vote_reports(store, config, now)
        return [VoteGlance.of(r) for r in reports if r.closes_at >= oldest]
    # Only the votes that can be an item are read, as their views keep them: a page costs
    # what it shows. (Counted again, 40 open votes took 160 ms of every front page.)
    closing = to_text(now + CLOSING_WITHIN)
    keys = stored_views.votes_needing_attention(store, closing, to_text(oldest), to_text(now))
    return [VoteGlance.from_dict(p) for p in stored_views.vote_payloads_of(store, keys)]


def _blocked(
    store: Store, config: Config, now: datetime, limit: int | None = None
) -> list[BlockedConcern]:
    """The concerns blocking listed RFCs, as their stored views name them; of the first
    ``limit`` blocked RFCs (those waiting longest) when a page shows only a few."""
    found: list[BlockedConcern] = []
    blocked = stored_views.rfc_payloads(
        store, listed=True, state="blocked", order="attention", limit=limit
    )
    for payload in blocked:
        found += [
            BlockedConcern(
                payload["rfc"],
                payload["subject"],
                concern["id"],
                concern["title"],
                concern["raised_by"],
                datetime.fromisoformat(concern["raised_at"]),
                concern["post"],
                concern.get("url"),
            )
            for concern in payload.get("blocked_on", [])
        ]
    return found


def _recent_open(store: Store, config: Config, now: datetime) -> list[BlockedConcern]:
    """As :func:`_blocked`, read from the threads themselves (a time the views are not at)."""
    blocking = timedelta(days=config.rfcs.blocking_days)
    settings = rfc_settings(config)
    found: list[BlockedConcern] = []
    for thread in store.threads_active_since(now - blocking):
        ledger = ledger_of(store, config, thread, now)
        # Only a thread with an open concern is asked whether it is listed (its posts'
        # lists are read again for that).
        if not ledger.in_state(ConcernState.OPEN) or not _listed(store, settings, thread):
            continue
        found += [
            BlockedConcern(
                thread.key,
                thread.subject,
                concern.id,
                concern.title,
                concern.raised_by.display,
                concern.raised_at,
                concern.post,
                concern.url,
            )
            for concern in ledger.in_state(ConcernState.OPEN)
            if timedelta(0) <= now - concern.raised_at <= blocking
        ]
    return found


def _listed(store: Store, settings: RfcSettings, thread: Thread) -> bool:
    """Whether the RFC views list the thread (:func:`bot.core.rfcs.read_rfc`'s rule, for
    the concerns it has): an RFC, or a discussion on a development list. A users@
    question with a worry in it needs no chair as of any time, as it does not now."""
    if thread.kind in NOT_DISCUSSIONS:
        return False
    if is_rfc([thread], settings):
        return True
    return any(settings.is_development_list(p.list_id) for p in store.posts_in_thread(thread.key))
