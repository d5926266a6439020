"""Concerns: the ledger of every discussion thread, and its summary.

Detection and the ledger are pure (``bot.core.concerns``); this module picks
the threads, gathers their posts and renders the summary from ``templates/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.config import Config
from bot.core.commands import ResolvePolicy
from bot.core.concern_extraction import PROMPT_VERSION, proposals_from, verify
from bot.core.concern_model import DEFAULT_MODEL, ConcernModel
from bot.core.concerns import Ledger, LedgerSettings, Proposed, build_ledger
from bot.core.prose import units_of
from bot.core.summary import Summary, summarize
from bot.errors import UserError
from bot.features.links import archive_of
from bot.features.people import bot_addresses, people_from
from bot.features.settings import per_config
from bot.model import Action, Post, Thread, ThreadKind
from bot.render import render
from bot.store import Store, from_text
from bot.store import concern_extractions as extraction_store
from bot.store import views as stored_views

# Announcements are not debates. A [VOTE] is: a -1 with its reasons, or questions
# put to the release manager, are concerns as much as they are in an [RFC].
_NOT_DISCUSSIONS = frozenset({ThreadKind.RESULT, ThreadKind.CANCEL})


def ledger_settings(config: Config, model: ConcernModel | None = None) -> LedgerSettings:
    """How the ledger reads ``config``'s discussions (with another ``model`` to measure)."""
    settings = _ledger_settings(config)
    return settings if model is None else replace(settings, model=model)


@per_config
def _ledger_settings(config: Config) -> LedgerSettings:
    # Maintainers are roster members; the directory decides who an author is.
    return LedgerSettings(
        handle=config.bot.name,
        maintainers=frozenset(member.name for member in config.roster.members),
        bot_addresses=frozenset(address.casefold() for address in bot_addresses(config)),
        resolvers=ResolvePolicy(config.concerns.resolvers),
        people=people_from(config),
        model=DEFAULT_MODEL,
    )


def discussion_threads(store: Store) -> list[Thread]:
    """Discussions, one per RFC: the other parts of a joined RFC are read with its head."""
    return [
        t
        for t in store.threads()
        if t.kind not in _NOT_DISCUSSIONS and (t.rfc is None or t.rfc == t.key)
    ]


def find_thread(
    store: Store, selector: str, kind: ThreadKind | None = None, noun: str = "thread"
) -> Thread:
    """A thread (of ``kind``) by its key, or by a unique piece of its subject."""
    matches = store.find_threads(selector, kind, limit=21)
    if len(matches) == 1 or (matches and matches[0].key == selector):
        return matches[0]
    if not matches:
        command = "votes" if kind is ThreadKind.VOTE else "threads"
        raise UserError(f"no {noun} matches {selector!r}; see `quorum {command}`")
    many = f"{len(matches)}" if len(matches) <= 20 else "more than 20"
    listed = "\n".join(f"  {t.key}  {t.subject}" for t in matches[:20])
    raise UserError(f"{selector!r} matches {many} {noun}s; name one:\n{listed}")


def ledger_of(
    store: Store,
    config: Config,
    thread: Thread,
    now: datetime,
    model: ConcernModel | None = None,
) -> Ledger:
    # Every channel of the RFC (forum topic, dev@ thread, PR) counts, each post once.
    posts = store.posts_in_rfc(thread.key)
    proposed = proposed_for(store, config, posts)
    return build_ledger(thread.key, posts, now, ledger_settings(config, model), proposed=proposed)


def ledgers(
    store: Store, config: Config, now: datetime, model: ConcernModel | None = None
) -> list[Ledger]:
    """Ledgers of every discussion thread that has at least one concern.

    ``model`` replaces the fitted concern model (bench/judgement.py fits others).
    """
    found = (ledger_of(store, config, thread, now, model) for thread in discussion_threads(store))
    return [ledger for ledger in found if ledger.concerns]


def summary_of(store: Store, config: Config, thread: Thread, now: datetime) -> Summary:
    posts = store.posts_in_rfc(thread.key)
    proposed = proposed_for(store, config, posts)
    ledger = build_ledger(thread.key, posts, now, ledger_settings(config), proposed=proposed)
    return summarize(thread.subject, posts, ledger, now, archive_of(config))


def render_summary(summary: Summary, config: Config) -> str:
    return render(
        "email/summary.txt.j2",
        summary=summary,
        bot_name=config.bot.name,
        project=config.project.name,
    )


# Replies go only to commands written recently: importing an old archive must not
# make the bot answer commands from years ago.
REPLY_WINDOW = timedelta(hours=48)


def command_replies(store: Store, config: Config, now: datetime) -> list[Action]:
    """Replies owed to malformed, refused or help commands in recent posts.

    Read from the stored RFC views of the discussions active in the window (each view
    holds its ledger's replies, bot.features.views.owed_replies): the tick builds no
    ledger. A command is answered once its RFC's view has taken it in.
    """
    actions: list[Action] = []
    active = [
        thread
        for thread in store.threads_active_since(now - REPLY_WINDOW)
        if thread.kind not in _NOT_DISCUSSIONS
    ]
    for head in dict.fromkeys(thread.rfc or thread.key for thread in active):
        payload = stored_views.rfc_payload(store, head) or {}
        for reply in payload.get("replies", []):
            written = reply["written_at"]
            if written is not None and now - from_text(written) <= REPLY_WINDOW:
                actions.append(Action.from_dict(reply["action"]))
    return actions


# --------------------------------------------------------------------------
# Concerns the optional extractor proposed (README: "Concerns by a language model")
# --------------------------------------------------------------------------


def extractor_identity(config: Config) -> tuple[str, str] | None:
    """(model, prompt version) whose cached proposals the ledger reads; None when off."""
    if config.concerns.extractor == "off":
        return None
    return config.summarizer.model, PROMPT_VERSION


def proposed_for(
    store: Store, config: Config, posts: Sequence[Post]
) -> dict[str, tuple[Proposed, ...]] | None:
    """The cached proposals of these posts whose quotes each post says word for word.

    None when the extractor is off: the ledger is then the cue reader's alone.
    """
    identity = extractor_identity(config)
    if identity is None:
        return None
    cached = extraction_store.proposals_of_posts(store, [p.key for p in posts], *identity)
    found: dict[str, tuple[Proposed, ...]] = {}
    for post in posts:
        if post.key in cached:
            units = units_of(post.text, config.bot.name)
            found[post.key] = verify(units, proposals_from(cached[post.key])).kept
    return found
