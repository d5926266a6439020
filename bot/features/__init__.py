"""Features: the glue between the store and the pure core, one module each.

``FEATURES`` is the registry the scheduler runs. Each feature reads the store
and returns outbox actions; it runs only when its config section is present
(``None``: always on — replies to bot commands must never be silent), and one
feature failing is logged with its name and does not stop the others.

Most features run on every features tick; a feature with a ``schedule`` (the
digest) runs on its own calendar instead: a crontab line read from the config,
in ``project.timezone``, as an APScheduler ``CronTrigger``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.config import Config
from bot.logs import event
from bot.model import Action
from bot.store import Store

logger = logging.getLogger(__name__)

Decide = Callable[[Store, Config, datetime], list[Action]]


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    section: str | None
    decide: Decide
    # A crontab line from the config (in project.timezone); None: every features tick.
    schedule: Callable[[Config], str] | None = None

    def enabled(self, config: Config) -> bool:
        if self.section is None:
            return True
        return self.section in config.model_fields_set and getattr(config, self.section) is not None


def _registry() -> tuple[Feature, ...]:
    # Imported here: the feature modules import this package's siblings.
    from bot.features.concerns import command_replies
    from bot.features.digest import digest_actions
    from bot.features.module_views import reminder_actions_for
    from bot.features.status_posts import status_actions
    from bot.features.votes import result_due_actions

    return (
        Feature("command-replies", None, command_replies),
        Feature("reminders", "responsiveness", reminder_actions_for),
        Feature("vote-closing", "votes", result_due_actions),
        Feature("status-posts", "discourse", status_actions),
        Feature("digest", None, digest_actions, schedule=lambda config: config.digest.schedule),
    )


def features() -> tuple[Feature, ...]:
    """The registry, in the order features run."""
    return _registry()


def scheduled(config: Config) -> tuple[Feature, ...]:
    """The enabled features that run on a calendar of their own."""
    return tuple(f for f in _registry() if f.schedule is not None and f.enabled(config))


def decide_all(
    store: Store, config: Config, now: datetime, only: Iterable[str] | None = None
) -> list[Action]:
    """The actions as of ``now`` of every enabled feature that runs on each tick, or of
    the features named in ``only`` (a scheduled feature whose time came)."""
    wanted = None if only is None else set(only)
    actions: list[Action] = []
    for feature in _registry():
        if not feature.enabled(config):
            continue
        if wanted is None and feature.schedule is not None:
            continue  # it runs when its schedule comes, not on every tick
        if wanted is not None and feature.name not in wanted:
            continue
        try:
            actions.extend(feature.decide(store, config, now))
        except Exception:
            logger.exception(
                "feature %s failed at %s",
                feature.name,
                now.isoformat(),
                extra=event("feature.failed", feature=feature.name),
            )
    return actions
