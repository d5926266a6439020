"""Modules and responsiveness: who owes an answer, the figures, and the reminders due.

The rules are pure (``bot.core.reminders``); this module turns the config
into core values, gathers posts, holds, concerns, the RFC map, forum
categories and what the outbox recorded of each obligation (its ladder) from
the store, and renders each decision, and the catch-up summary of a backlog,
into outbox :class:`~bot.model.Action` s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.config import Config, ResponsivenessConfig, StagePolicyConfig
from bot.core.concerns import build_ledger
from bot.core.discourse import HEADER_CATEGORY_ID
from bot.core.links import reference
from bot.core.modules import Module, ModuleState, match_modules
from bot.core.people import People
from bot.core.reminders import (
    CATCH_UP_KIND,
    Audience,
    CatchUp,
    CatchUpPolicy,
    Decision,
    EscalationPolicy,
    Evaluation,
    Hold,
    ModuleConcern,
    ModuleFigures,
    ModuleFlag,
    PostLink,
    QuietPeriod,
    Scope,
    StagePolicy,
    evaluate,
    holds_from_commands,
    said_before,
    thread_of,
)
from bot.core.rfcs import NOT_DISCUSSIONS
from bot.core.rules import BotIdentity
from bot.features.codeowners import module_maintainers
from bot.features.concerns import ledger_settings
from bot.features.links import archive_of
from bot.features.people import people_from
from bot.model import Action, Post, Source, Thread
from bot.render import render
from bot.store import Store
from bot.store import rfc_links as rfc_store
from bot.store.outbox import Outbox

DEFAULT_RESPONSIVENESS = ResponsivenessConfig()


def module_registry(config: Config, store: Store | None = None) -> tuple[Module, ...]:
    """[modules.*] as core Modules, in file order (mentions fall back to the first listed).

    With ``store``, maintainers taken from CODEOWNERS may come from the repository's
    copy that ``quorum fetch github`` stored.
    """
    return tuple(
        Module(
            name=name,
            state=ModuleState(section.state),
            maintainers=module_maintainers(config, name, section, store),
            keywords=tuple(section.keywords),
            tags=tuple(section.tags),
            paths=tuple(section.paths),
            categories=tuple(section.categories),
        )
        for name, section in config.modules.items()
    )


def stage_policy(name: str, section: StagePolicyConfig) -> StagePolicy:
    return StagePolicy(
        name=name,
        remind_after=dt.timedelta(days=section.remind_after_days),
        escalate_after=dt.timedelta(days=section.escalate_after_days),
        flag_after=dt.timedelta(days=section.flag_after_days),
    )


def escalation_policy(section: ResponsivenessConfig) -> EscalationPolicy:
    policy = section.policy
    return EscalationPolicy(
        s0=stage_policy("S0 policy", policy.s0),
        s1=stage_policy("S1 policy", policy.s1),
        s2=stage_policy("S2 policy", policy.s2),
        deprecated=stage_policy("deprecated-module policy", policy.deprecated),
    )


def quiet_periods(section: ResponsivenessConfig) -> tuple[QuietPeriod, ...]:
    """Whole days become [start 00:00 UTC, the day after `until` 00:00 UTC)."""
    return tuple(QuietPeriod(q.person, _start(q.start), _end(q.until)) for q in section.quiet)


def _start(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


def _end(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def identity_resolver(config: Config) -> People:
    return people_from(config)


def bot_identity(config: Config, section: ResponsivenessConfig) -> BotIdentity:
    address = config.bot.address.lower()
    return BotIdentity(addresses=frozenset({address}), loop_id=section.loop_id or address)


_HOLD = re.compile(r"@\w[\w-]*\s+(un)?hold\b", re.IGNORECASE)


def _holds(
    config: Config, threads: Sequence[Thread], posts_of: Mapping[str, list[Post]], now: dt.datetime
) -> list[Hold]:
    """Holds come from `@quorum hold` commands; only threads that mention one are read."""
    holds: list[Hold] = []
    for thread in threads:
        posts = posts_of.get(thread.key, [])
        if not any(_HOLD.search(post.text) for post in posts):
            continue
        ledger = build_ledger(thread.key, posts, now, ledger_settings(config))
        holds.extend(holds_from_commands(thread.key, ledger.commands))
    return holds


def _module_concerns(
    config: Config,
    modules: tuple[Module, ...],
    threads: Sequence[Thread],
    posts_of: Mapping[str, list[Post]],
    now: dt.datetime,
    categories: Mapping[str, Sequence[str]],
) -> list[ModuleConcern]:
    """Concerns on an RFC owe an answer from the modules the RFC's first post is about
    (by its words, or by the forum category of its topic)."""
    found: list[ModuleConcern] = []
    for thread in threads:
        posts = posts_of.get(thread.key, [])
        champions = (
            match_modules(posts[0], modules, categories.get(thread.key, ())) if posts else ()
        )
        if not champions:
            continue
        ledger = build_ledger(thread.key, posts, now, ledger_settings(config))
        found.extend(
            ModuleConcern(concern, module.name)
            for concern in ledger.concerns
            for module in champions
        )
    return found


def window_start(config: Config, now: dt.datetime) -> dt.datetime:
    return now - window_of(config)


def window_of(config: Config) -> dt.timedelta:
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    return dt.timedelta(days=section.window_days)


def evaluate_modules(store: Store, config: Config, now: dt.datetime) -> Evaluation:
    """Obligations, figures and due decisions for every configured module, from scratch.

    Read from the conversations active in ``responsiveness.window_days``: an
    obligation in a thread nobody touched for longer is history. A maintainer's
    answer in any thread of the same RFC (the forum topic of a dev@ RFC, its pull
    request) counts; only posts in the configured lists and forum categories open
    obligations. What the tick, the pages and the commands read is the same
    evaluation kept in the store a module at a time (:mod:`bot.features.module_views`);
    this one is for another moment than now (``quorum modules --now``) and the tests.
    """
    modules = module_registry(config, store)
    if not modules:
        return evaluate_posts(store, config, now, modules, [], [])
    since = window_start(config, now)
    threads = store.threads_active_since(since)
    return evaluate_posts(store, config, now, modules, threads, store.posts_active_since(since))


def evaluate_posts(
    store: Store,
    config: Config,
    now: dt.datetime,
    modules: tuple[Module, ...],
    threads: Sequence[Thread],
    posts: list[Post],
    only: Sequence[str] | None = None,
) -> Evaluation:
    """The evaluation of ``modules`` (of those named ``only``) from these threads and
    their posts, oldest first; the outbox's ladder and the RFC map read from the store."""
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    categories = forum_categories(config, posts)
    posts_of: dict[str, list[Post]] = {}
    for post in posts:
        posts_of.setdefault(post.thread_key, []).append(post)
    discussions = [t for t in threads if t.kind not in NOT_DISCUSSIONS]
    since = window_start(config, now)
    return evaluate(
        posts,
        modules,
        escalation_policy(section),
        now,
        identities=identity_resolver(config),
        bot=bot_identity(config, section),
        quiet=quiet_periods(section),
        holds=_holds(config, discussions, posts_of, now) if modules else (),
        concerns=(
            _module_concerns(config, modules, discussions, posts_of, now, categories)
            if modules
            else ()
        ),
        rfc_of=rfc_store.rfc_map(store, {thread_of(p) for p in posts}) if modules else {},
        categories=categories,
        ladder=Outbox(store).ladder(since, now) if modules else {},
        catch_up=catch_up_policy(section),
        scope=obligation_scope(config, section),
        only=only,
    )


def catch_up_policy(section: ResponsivenessConfig) -> CatchUpPolicy:
    return CatchUpPolicy(
        mode=CatchUp(section.catch_up), max_age=dt.timedelta(days=section.max_age_days)
    )


def obligation_scope(config: Config, section: ResponsivenessConfig) -> Scope:
    """responsiveness.lists (else [rfcs] lists) and responsiveness.categories."""
    lists = section.lists or [entry.strip().strip("<>").lower() for entry in config.rfcs.lists]
    return Scope(lists=frozenset(lists), categories=frozenset(section.categories))


def forum_categories(config: Config, posts: Iterable[Post]) -> dict[str, tuple[str, ...]]:
    """Thread and post keys of forum posts -> the names of their category: its id, and its
    slug as `[discourse.forums.NAME] categories` gives it (whole, last part, in words)."""
    slugs: dict[tuple[str, int], str] = {}
    if config.discourse is not None:
        for forum, settings in config.discourse.forums.items():
            slugs.update({(forum, c.id): c.slug for c in settings.categories})
    found: dict[str, tuple[str, ...]] = {}
    for post in posts:
        category = post.headers.get(HEADER_CATEGORY_ID, "")
        if post.source is not Source.DISCOURSE or not category.isdigit():
            continue
        forum = post.key.split(":")[1] if post.key.count(":") >= 2 else ""
        slug = slugs.get((forum, int(category)), "")
        last = slug.rsplit("/", 1)[-1]
        names = tuple(dict.fromkeys(n for n in (category, slug, last, last.replace("-", " ")) if n))
        found[post.key] = names
        found.setdefault(thread_of(post), names)
    return found


def reminder_actions(
    evaluation: Evaluation, config: Config | None = None, now: dt.datetime | None = None
) -> list[Action]:
    """Every decision due, rendered, as outbox actions; with ``config``, the catch-up
    summary of a backlog too (once: its obligations are recorded with it).

    Flags are shown by the dashboard and the digest, not sent: they are not actions.
    """
    config = config or Config()
    actions = [
        decision.action(render_decision(decision, config))
        for decision in evaluation.decisions
        if decision.channel is not Audience.DASHBOARD
    ]
    if evaluation.catch_up and now is not None:
        actions.append(catch_up_action(evaluation, config, now))
    return actions


def render_decision(decision: Decision, config: Config | None = None) -> str:
    """The body of a reminder; the channel's template adds who the bot is and how to reply."""
    config = config or Config()
    return render(
        "text/decision.txt.j2",
        decision=decision,
        link=_link(decision.post, config),
        before=said_before(decision.history),
        evidence=[(item, _link(item.post, config)) for item in decision.evidence],
        timezone=config.project.zone(),
    ).strip()


def catch_up_route(config: Config) -> str:
    """The PMC's Slack channel when one is configured, else the list."""
    return "pmc" if "pmc" in config.slack.channels else "list"


def catch_up_action(evaluation: Evaluation, config: Config, now: dt.datetime) -> Action:
    """One message listing the backlog for the PMC; its obligations are recorded with it,
    so it is never listed again, and each one's ladder starts from its delivery."""
    route = catch_up_route(config)
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    policy = escalation_policy(section)
    modules = {m.name: m for m in module_registry(config)}
    items = [
        (
            obligation,
            _link(obligation.post, config),
            now + policy.for_state(modules[obligation.module].state).remind_after
            if obligation.module in modules
            else now,
        )
        for obligation in evaluation.catch_up
    ]
    text = render(
        "text/catch_up.txt.j2",
        items=items,
        now=now,
        project=config.project.name,
        timezone=config.project.zone(),
    ).strip()
    return Action(
        kind=CATCH_UP_KIND,
        target=CATCH_UP_KIND,
        text=text,
        key=f"{CATCH_UP_KIND}:{route}:project:0:{now:%Y-%m-%dT%H:%MZ}",
        channel=route,
        reason=(
            f"responsiveness.catch_up = summary: {len(items)} obligation(s) fell due while"
            " Quorum was not watching; listed once, reminded from the dates given"
        ),
        about=tuple(obligation.key for obligation in evaluation.catch_up),
    )


def _link(post: PostLink, config: Config) -> str:
    return reference(post, archive_of(config), author=post.author, subject=post.subject, at=post.at)


def module_dict(figures: ModuleFigures) -> dict[str, Any]:
    """One module as `quorum modules --json` and `/api/modules` show it."""
    return {
        "name": figures.module,
        "state": figures.state.value,
        "state_means": figures.state.explanation,
        "maintainers": list(figures.maintainers),
        "open_obligations": figures.open,
        "paused_obligations": figures.paused,
        "median_response_seconds": _seconds(figures.median_response),
        "p90_response_seconds": _seconds(figures.p90_response),
        "last_activity": figures.last_activity.isoformat() if figures.last_activity else None,
        "ci_failures": figures.ci_failures,
        "flagged": figures.flagged,
    }


def _seconds(value: dt.timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def modules_payload(evaluation: Evaluation) -> dict[str, Any]:
    """`quorum modules --json`, plus the flags with their evidence that the page shows."""
    return {
        "modules": [module_dict(f) for f in evaluation.modules],
        "obligations": [o.to_dict() for o in evaluation.obligations],
        "decisions": [d.to_dict() for d in evaluation.decisions],
        "flags": [_flag_dict(flag) for flag in evaluation.flags],
    }


def _flag_dict(flag: ModuleFlag) -> dict[str, Any]:
    return {
        "module": flag.module,
        "rule": flag.rule,
        "since": flag.since.isoformat(),
        "evidence": [
            {
                "post": e.post.key,
                "subject": e.post.subject,
                "author": e.post.author,
                "kind": e.kind.value,
                "opened_at": e.opened_at.isoformat(),
                "waiting_seconds": int(e.waiting.total_seconds()),
                "stage": int(e.stage),
            }
            for e in flag.evidence
        ],
    }
