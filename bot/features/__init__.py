"""Features: the glue between the store and the pure core, one module each.

``FEATURES`` is the registry the scheduler runs. Each feature reads the store
and returns outbox actions; it runs only when its config section is present
(``None``: always on — replies to bot commands must never be silent), and one
feature failing is logged with its name and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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

    def enabled(self, config: Config) -> bool:
        if self.section is None:
            return True
        return self.section in config.model_fields_set and getattr(config, self.section) is not None


def _registry() -> tuple[Feature, ...]:
    # Imported here: the feature modules import this package's siblings.
    from bot.features.concerns import command_replies
    from bot.features.reminders import reminder_actions_for
    from bot.features.status_posts import status_actions
    from bot.features.votes import result_due_actions

    return (
        Feature("command-replies", None, command_replies),
        Feature("reminders", "responsiveness", reminder_actions_for),
        Feature("vote-closing", "votes", result_due_actions),
        Feature("status-posts", "discourse", status_actions),
    )


def decide_all(store: Store, config: Config, now: datetime) -> list[Action]:
    """Every enabled feature's actions as of ``now``."""
    actions: list[Action] = []
    for feature in _registry():
        if not feature.enabled(config):
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
