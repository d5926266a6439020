"""Modules and responsiveness: who owes an answer, the figures, and the reminders due.

The rules are pure (``bot.core.reminders``); this module turns the config
into core values, gathers posts, holds and concerns from the store, and
renders each decision into an outbox :class:`~bot.model.Action`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from bot.config import Config, ResponsivenessConfig, StagePolicyConfig
from bot.core.concerns import build_ledger
from bot.core.modules import IdentityResolver, Module, ModuleState, match_modules
from bot.core.reminders import (
    Channel,
    Decision,
    EscalationPolicy,
    Evaluation,
    Hold,
    ModuleConcern,
    ModuleFigures,
    ModuleFlag,
    QuietPeriod,
    StagePolicy,
    evaluate,
    holds_from_commands,
)
from bot.core.rfcs import NOT_DISCUSSIONS
from bot.core.rules import BotIdentity
from bot.features.codeowners import module_maintainers
from bot.features.concerns import ledger_settings
from bot.features.people import people_from
from bot.model import Action, Post, Thread
from bot.render import render
from bot.store import Store

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


def identity_resolver(config: Config) -> IdentityResolver:
    return people_from(config)


def bot_identity(config: Config, section: ResponsivenessConfig) -> BotIdentity:
    address = config.bot.address.lower()
    return BotIdentity(addresses=frozenset({address}), loop_id=section.loop_id or address)


_HOLD = re.compile(r"@\w[\w-]*\s+(un)?hold\b", re.IGNORECASE)


def _holds(store: Store, config: Config, now: dt.datetime) -> list[Hold]:
    """Holds come from `@quorum hold` commands; only threads that mention one are read."""
    holds: list[Hold] = []
    for thread in _recent_discussions(store, config, now):
        posts = store.posts_in_thread(thread.key)
        if not any(_HOLD.search(post.text) for post in posts):
            continue
        ledger = build_ledger(thread.key, posts, now, ledger_settings(config))
        holds.extend(holds_from_commands(thread.key, ledger.commands))
    return holds


def _module_concerns(
    store: Store, config: Config, modules: tuple[Module, ...], now: dt.datetime
) -> list[ModuleConcern]:
    """Concerns on an RFC owe an answer from the modules the RFC's first post is about."""
    found: list[ModuleConcern] = []
    for thread in _recent_discussions(store, config, now):
        posts = store.posts_in_thread(thread.key)
        champions = match_modules(posts[0], modules) if posts else ()
        if not champions:
            continue
        ledger = build_ledger(thread.key, posts, now, ledger_settings(config))
        found.extend(
            ModuleConcern(concern, module.name)
            for concern in ledger.concerns
            for module in champions
        )
    return found


def _window_start(config: Config, now: dt.datetime) -> dt.datetime:
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    return now - dt.timedelta(days=section.window_days)


def _recent_discussions(store: Store, config: Config, now: dt.datetime) -> list[Thread]:
    since = _window_start(config, now)
    return [t for t in store.threads_active_since(since) if t.kind not in NOT_DISCUSSIONS]


def evaluate_modules(store: Store, config: Config, now: dt.datetime) -> Evaluation:
    """Obligations, figures and due decisions for every configured module.

    Read from the conversations active in ``responsiveness.window_days``: an
    obligation in a thread nobody touched for longer is history, and the tick costs
    what the window holds however long the list's past.
    """
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    modules = module_registry(config, store)
    posts: Iterable[Post] = store.posts_active_since(_window_start(config, now)) if modules else ()
    return evaluate(
        posts,
        modules,
        escalation_policy(section),
        now,
        identities=identity_resolver(config),
        bot=bot_identity(config, section),
        quiet=quiet_periods(section),
        holds=_holds(store, config, now) if modules else (),
        concerns=_module_concerns(store, config, modules, now) if modules else (),
    )


def reminder_actions(evaluation: Evaluation) -> list[Action]:
    """Every decision due, rendered, as outbox actions.

    Flags are shown by the dashboard and the digest, not sent: they are not actions.
    """
    return [
        decision.action(render_decision(decision))
        for decision in evaluation.decisions
        if decision.channel is not Channel.DASHBOARD
    ]


def reminder_actions_for(store: Store, config: Config, now: dt.datetime) -> list[Action]:
    return reminder_actions(evaluate_modules(store, config, now))


def render_decision(decision: Decision) -> str:
    """The body of a reminder; the channel's template adds who the bot is and how to reply."""
    return render("text/decision.txt.j2", decision=decision).strip()


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
