"""One status post per RFC topic on the forum, edited in place as the RFC moves.

rfcbot's best habit, for a forum: the topic of an RFC carries one post by the bot
that says where the RFC stands (its state, the concerns not yet settled, the votes
on it, where else it is discussed). The post is written once and then edited, so
the topic does not fill up with bot posts.

Each new status is one outbox action (its key names the topic, how many statuses
came before it and a digest of the text), recorded only when the text differs from
the last one recorded, so a status is delivered exactly once, a crash in between is
no reason to post twice, and dry-run shows what would be written. The
text carries no relative time ("closes in 2 days"): a status changes when the RFC
does, not when the clock ticks. ``bot.sync.forum.publish_status`` creates the post
the first time and edits it after (``forum_status_posts`` remembers which it is).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.core.rfcs import STATE_MEANINGS, RfcState, channel_of, day
from bot.core.votes import forecast
from bot.model import Action
from bot.render import render
from bot.store import Store, to_text
from bot.store import views as stored
from bot.store.outbox import Outbox

logger = logging.getLogger(__name__)

STATUS_KIND = "status"
# Concerns a status post lists (the rest are on the dashboard, which it names).
MAX_LISTED = 10
_UNSETTLED = ("open", "answered")
# States whose reason is relative to now ("last post 3 days ago", "closes in 2 days"):
# the status post says the dates instead, so it changes only when the RFC does.
_RELATIVE_REASONS = frozenset({RfcState.ACTIVE, RfcState.VOTING})


def status_actions(store: Store, config: Config, now: datetime) -> list[Action]:
    """A status action for every RFC with a forum topic that was active lately."""
    section = config.discourse
    if section is None or not section.status_posts:
        return []
    since = to_text(now - timedelta(days=config.rfcs.quiet_after_days))
    actions = []
    for view in stored.rfcs_with_forum_topics(store, since):
        for topic in _forum_topics(view, set(section.forums)):
            action = _status_action(store, config, view, topic)
            if action is not None:
                actions.append(action)
    return actions


def _forum_topics(view: dict[str, Any], forums: set[str]) -> list[str]:
    """Thread keys of the view's topics on the configured forums."""
    keys = [part["key"] for part in view.get("threads", [])]
    return [key for key in keys if key.startswith("discourse:") and key.split(":")[1] in forums]


def _status_action(store: Store, config: Config, view: dict[str, Any], topic: str) -> Action | None:
    opening = store.first_post(topic)
    if opening is None:  # the topic's posts are not stored yet; the next tick will see them
        return None
    text = status_text(store, config, view)
    said, latest = Outbox(store).said_about(opening.key, STATUS_KIND)
    if text == latest:
        return None
    # The n-th status of this topic: a status that comes back (blocked, answered,
    # blocked again) is a new edit, not one the outbox has already seen.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return Action(
        kind=STATUS_KIND,
        target=opening.key,
        text=text,
        key=f"{STATUS_KIND}:{topic}:{said + 1}:{digest}",
        channel="discourse",
        reason=f"the status of {view['subject']!r} changed",
    )


def status_text(store: Store, config: Config, view: dict[str, Any]) -> str:
    """What the status post says (without the bot's footer, which the channel adds)."""
    state = RfcState(view["state"])
    concerns = [c for c in view.get("concern_list", []) if c["state"] in _UNSETTLED]
    return render(
        "discourse/status.md.j2",
        state=state.value,
        meaning=STATE_MEANINGS[state],
        reason=view.get("reason", "") if state not in _RELATIVE_REASONS else "",
        concerns=[_concern(c) for c in concerns[:MAX_LISTED]],
        votes=_votes(store, view.get("votes", [])),
        channels=list(dict.fromkeys(channel_of(p["key"]) for p in view.get("threads", []))),
    )


def _concern(concern: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": concern["title"],
        "raised_by": concern["raised_by"],
        "day": day(datetime.fromisoformat(concern["raised_at"])),
        "url": concern.get("url") or "",
        "state": concern["state"],
        "answered_by": list(dict.fromkeys(ref["author"] for ref in concern["answered_by"])),
    }


def _votes(store: Store, threads: list[str]) -> list[dict[str, str]]:
    found = []
    for thread, state, _opened, closes_at, would_pass in stored.vote_standing(store, threads):
        payload = stored.vote_payload(store, thread) or {}
        closes = day(datetime.fromisoformat(closes_at)) if closes_at else "unknown"
        if state == "open":
            verdict = "would not pass" if would_pass == 0 else f"would {forecast(would_pass)}"
            standing = f"open until {closes}; as counted now it {verdict}"
        else:
            standing = f"{state} ({closes})"
        found.append({"subject": payload.get("subject", thread), "standing": standing})
    return found
