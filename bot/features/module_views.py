"""The modules' responsiveness, kept in the store a module at a time and followed.

Evaluating every module from every post of the window (:func:`bot.features.reminders.
evaluate_modules`) costs what 90 days of a busy list hold, on every tick and after
every new mail on the front page. Instead each module's own evaluation
(``evaluate(..., only=[name])``, from the conversations that reach it) is stored
(:mod:`bot.store.modules`) and computed again only for what changed:

- the threads a change reaches (the views' change log) are read again, and the
  modules they reach now or reached before are recomputed;
- an obligation whose ladder the outbox changed (a reminder recorded, sent, recorded
  in dry-run) recomputes its module;
- a module's ``due_at`` (:func:`bot.core.reminders.next_change`) is when the clock
  alone changes it; the tick reads those from an index;
- a new fingerprint (this code, the configuration, the registry's maintainers)
  recomputes every module from the window once.

Between those moments a stored evaluation is read as of now (:func:`bot.core.
reminders.as_of`: only open obligations' waiting grows), and the modules' parts are
joined in the order one evaluation of them all gives (:func:`bot.core.reminders.
combine`); a test compares the two.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from bot.config import Config
from bot.core.attention import for_attention
from bot.core.concern_model import DEFAULT_MODEL
from bot.core.modules import Module
from bot.core.reminders import (
    Evaluation,
    as_of,
    categories_of,
    combine,
    evaluation_from_dict,
    maintainer_roles,
    next_change,
    post_reach,
)
from bot.features.reminders import (
    DEFAULT_RESPONSIVENESS,
    catch_up_policy,
    escalation_policy,
    evaluate_modules,
    evaluate_posts,
    forum_categories,
    identity_resolver,
    module_registry,
    quiet_periods,
    reminder_actions,
    window_of,
)
from bot.features.settings import digest, per_config
from bot.model import Action, Post, Thread
from bot.store import Store, to_text
from bot.store import modules as stored
from bot.store import rfc_links as rfc_store
from bot.store import views as stored_views
from bot.store.modules import ModuleRow

logger = logging.getLogger(__name__)

# Bump when what a stored module evaluation holds, or how it is computed, changes.
# 2: each row holds the part the front page reads too (front).
MODULES_VERSION = 2
# Threads read per read step while working out what a change reaches.
READ_STEP = 200


def fingerprint(config: Config, registry: Sequence[Module]) -> str:
    """What the stored evaluations were computed with: this code, the configuration they
    read, the modules as resolved (maintainers may come from a stored CODEOWNERS)."""
    described = [
        _configured(config),
        [[m.name, m.state.value, list(m.maintainers)] for m in registry],
    ]
    return digest(described)


@per_config
def _configured(config: Config) -> str:
    """The code's version and the configuration the evaluations read, once per Config."""
    sections = (
        "bot", "modules", "responsiveness", "identities", "trust", "rfcs", "concerns",
        "discourse", "roster",
    )  # fmt: skip
    dumped = config.model_dump(mode="json")
    described: dict[str, object] = {name: dumped.get(name) for name in sections}
    described["version"] = MODULES_VERSION
    described["model"] = DEFAULT_MODEL.described()
    return digest(described)


@dataclass
class ModulePlan:
    """What a refresh of the modules computed, for :func:`apply` to store."""

    fingerprint: str
    marks_upto: int
    rebuilt: bool = False
    # thread -> (its last_at, the modules it reaches), for the threads read again.
    reach: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    rows: list[ModuleRow] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def recomputed(self) -> list[str]:
        return [row.module for row in self.rows]


def plan(store: Store, config: Config, now: datetime, changed: Sequence[str]) -> ModulePlan:
    """Recompute the modules that ``changed`` threads, the outbox or the clock reach
    (read only; the caller reads ``changed`` from the views' change log)."""
    registry = module_registry(config, store)
    print_ = fingerprint(config, registry)
    names = [m.name for m in registry]
    since = to_text(now - window_of(config))
    with store.read_step():
        stamps = {row[0]: row[1] for row in stored.stamps(store)}
        rebuild = bool(names) and any(stamps.get(name) != print_ for name in names)
        upto, items = stored.marks(store, int(stored_views.meta(store, "module_marks") or 0))
        due = stored.due(store, to_text(now))
        if rebuild:
            window = {
                t.key: to_text(t.last_at)
                for t in store.threads_active_since(now - window_of(config))
            }
            before: set[str] = set()
        else:
            window = stored.in_window(store, changed, since) if names else {}
            before = stored.modules_of(store, changed) if names else set()
            before |= _siblings_reach(store, changed) if names else set()
    result = ModulePlan(print_, upto, rebuilt=rebuild)
    result.dropped = sorted(set(stamps) - set(names))
    if not names:
        return result
    result.reach = _reach(store, config, registry, window, print_)
    stale = set(names) if rebuild else set(before)
    for reach in result.reach.values():
        stale |= reach[1]
    stale |= {name for item in items if (name := _module_of(item, names)) is not None}
    stale |= set(due) | (set(names) - set(stamps))
    for module in registry:
        if module.name in stale:
            result.rows.append(_row(store, config, now, registry, module, result, print_))
    return result


def apply(store: Store, result: ModulePlan) -> None:
    """Store a module plan (inside the caller's transaction)."""
    # A rebuild reads again (and replaces) the reach of every thread in the window; the
    # reach of one outside it is never read, and is read again if it gets a new post.
    stored.set_reach(store, result.reach)
    stored.save(store, result.rows, result.dropped)
    stored.forget_marks(store, result.marks_upto)
    stored_views.set_meta(store, "module_marks", str(result.marks_upto))


def stored_evaluation(store: Store, config: Config, now: datetime) -> Evaluation:
    """The modules as the store keeps them, read as of ``now`` (the dashboard: what the
    views job computed last); from scratch while the store keeps none for this
    configuration yet."""
    return StoredModules(config).read(store, now)


class StoredModules:
    """The stored evaluations as one reader (the dashboard) keeps them: each module's
    decoded again only when its revision changed, so a new post about one module does
    not decode the others' thousands of obligations again."""

    def __init__(self, config: Config, *, front: bool = False) -> None:
        self.config = config
        # Only the part "Needs attention" reads (bot.core.attention.for_attention).
        self.front = front
        self._parts: dict[str, tuple[tuple[str, int], Evaluation]] = {}

    def read(self, store: Store, now: datetime) -> Evaluation:
        registry = module_registry(self.config, store)
        print_ = fingerprint(self.config, registry)
        with store.read_step():
            stamps = {row[0]: (row[1], row[2]) for row in stored.stamps(store)}
            if any(stamps.get(m.name, ("", 0))[0] != print_ for m in registry):
                return evaluate_modules(store, self.config, now)
            changed = [m.name for m in registry if m.name not in self._parts
                       or self._parts[m.name][0] != stamps[m.name]]  # fmt: skip
            payloads = stored.payloads(store, changed, front=self.front)
        for name, payload in payloads.items():
            self._parts[name] = (stamps[name], evaluation_from_dict(payload))
        return joined(registry, [self._parts[m.name][1] for m in registry], now)


def current_evaluation(store: Store, config: Config, now: datetime) -> Evaluation:
    """The modules as of ``now``: the stored evaluations, those that a change since the
    last refresh, the outbox or the clock made stale computed again (not stored: the
    reading commands and the tick, which may not write)."""
    with store.read_step():
        _, changed = stored_views.changed_threads(store, int(stored_views.meta(store, "seq") or 0))
    fresh = plan(store, config, now, changed)
    registry = module_registry(config, store)
    done = {row.module: row.payload for row in fresh.rows}
    with store.read_step():
        kept = stored.payloads(store, [m.name for m in registry if m.name not in done])
    parts = [evaluation_from_dict(p) for p in {**kept, **done}.values()]
    return joined(registry, parts, now)


def modules_as_of(store: Store, config: Config, now: datetime, *, current: bool) -> Evaluation:
    """The modules as of ``now``: from the stored evaluations when ``now`` is the present
    (``current``), from scratch for another moment, which the stored ones do not serve."""
    return (current_evaluation if current else evaluate_modules)(store, config, now)


def reminder_actions_for(store: Store, config: Config, now: datetime) -> list[Action]:
    """The reminders feature: the decisions due in the modules' current evaluation."""
    return reminder_actions(current_evaluation(store, config, now), config, now)


def joined(registry: Sequence[Module], parts: Sequence[Evaluation], now: datetime) -> Evaluation:
    """The modules' parts as one evaluation as of ``now``."""
    return combine([as_of(part, now) for part in parts], registry, now)


def _module_of(item: str, names: Sequence[str]) -> str | None:
    """The module an obligation key (``module:post``) names, the longest name first."""
    found = [name for name in names if item.startswith(f"{name}:")]
    return max(found, key=len, default=None)


def _siblings_reach(store: Store, changed: Sequence[str]) -> set[str]:
    """Modules reached by the other threads of the changed threads' RFCs: a post in one
    thread of an RFC (a hold, an answer) counts in all of them."""
    siblings = _rfc_threads(store, changed)
    return stored.modules_of(store, siblings) if siblings else set()


def _rfc_threads(store: Store, keys: Sequence[str]) -> list[str]:
    """Every thread of the RFCs these threads are part of."""
    rfcs = set(rfc_store.rfc_map(store, keys).values())
    return [key for rfc in sorted(rfcs) for key in rfc_store.rfc_thread_keys(store, rfc)]


def _reach(
    store: Store,
    config: Config,
    registry: Sequence[Module],
    window: dict[str, str],
    print_: str,
) -> dict[str, tuple[str, frozenset[str]]]:
    """What each of these threads (in the window) reaches, read a few hundred at a time."""
    identities = identity_resolver(config)
    roles = maintainer_roles(registry)
    keys = sorted(window)
    found: dict[str, tuple[str, frozenset[str]]] = {}
    for start in range(0, len(keys), READ_STEP):
        with store.read_step():
            threads = {key: store.posts_in_thread(key) for key in keys[start : start + READ_STEP]}
        for key, posts in threads.items():
            categories = forum_categories(config, posts)
            reach: set[str] = set()
            for post in posts:
                own = categories_of(post, categories)
                compute = partial(post_reach, post, registry, identities, own, roles)
                reach |= POST_REACH.of((print_, own, post), compute)
            found[key] = (window[key], frozenset(reach))
    return found


class PostReach:
    """Each post's reach, remembered (the most recently used ``size``).

    A thread's reach is worked out again whenever it changes, from all its posts, and
    again by the tick's evaluation of what changed since the views were stored: on a
    busy list that was most of a tick (py-spy at 1,000,000 messages: 82 % of the
    computing process, in finding mentions and match rules). A post read before costs
    a hash now. The key is everything the reach is computed from: the modules'
    fingerprint (code, configuration, maintainers), the post's categories and the post
    itself, hashed whole (an edit is a new post to it).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._found: OrderedDict[tuple[str, tuple[str, ...], str, int], frozenset[str]] = (
            OrderedDict()
        )

    def of(
        self, key: tuple[str, tuple[str, ...], Post], compute: Callable[[], frozenset[str]]
    ) -> frozenset[str]:
        print_, categories, post = key
        # The post's own hash covers every field but its headers. Its text is hashed by
        # SipHash under this process's secret key: two versions of one post agreeing is
        # a 1-in-2**64 accident, and not one a sender can aim for.
        content = hash((post, tuple(post.headers.items())))
        known = (print_, categories, post.key, content)
        found = self._found.get(known)
        if found is not None:
            self._found.move_to_end(known)
            return found
        found = compute()
        self._found[known] = found
        if len(self._found) > self.size:
            self._found.popitem(last=False)
        return found


# A few hundred bytes a post: the posts of the threads a busy list keeps changing.
POST_REACH = PostReach(65_536)


def _row(
    store: Store,
    config: Config,
    now: datetime,
    registry: Sequence[Module],
    module: Module,
    result: ModulePlan,
    print_: str,
) -> ModuleRow:
    """One module evaluated from the conversations of its window that reach it."""
    since = now - window_of(config)
    with store.read_step():
        known = (
            set()
            if result.rebuilt
            else set(stored.threads_reaching(store, module.name, to_text(since)))
        )
        known -= set(result.reach)
        known |= {key for key, (_, reach) in result.reach.items() if module.name in reach}
        keys = _conversations(store, sorted(known), to_text(since))
        threads = [t for key in sorted(keys) if (t := store.thread(key)) is not None]
        posts = sorted(
            (p for t in threads for p in store.posts_in_thread(t.key)),
            key=lambda p: (p.created_at, p.key),
        )
        part = evaluate_posts(
            store, config, now, tuple(registry), threads, posts, only=[module.name]
        )
    due = _due(config, registry, part, threads, posts, now)
    return ModuleRow(
        module=module.name,
        fingerprint=print_,
        computed_at=to_text(now),
        due_at=to_text(due) if due is not None else None,
        payload=part.to_dict(),
        front=for_attention(part).to_dict(),
    )


def _conversations(store: Store, keys: list[str], since: str) -> set[str]:
    """These threads and the other threads of their RFCs, those active since ``since``."""
    more = _rfc_threads(store, keys)
    return set(stored.in_window(store, sorted(set(keys) | set(more)), since))


def _due(
    config: Config,
    registry: Sequence[Module],
    part: Evaluation,
    threads: Sequence[Thread],
    posts: Sequence[Post],
    now: datetime,
) -> datetime | None:
    """When the clock alone changes this module's evaluation next."""
    section = config.responsiveness or DEFAULT_RESPONSIVENESS
    policy = escalation_policy(section)
    window = window_of(config)
    policies = {module.name: policy.for_state(module.state) for module in registry}
    moments = [t.last_at + window + timedelta(seconds=1) for t in threads]
    moments += [p.created_at for p in posts if p.created_at > now]
    return next_change(
        part,
        policies,
        window=window,
        catch_up=catch_up_policy(section),
        quiet=quiet_periods(section),
        moments=moments,
    )
