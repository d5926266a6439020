"""The modules' figures kept in the store a module at a time show what an evaluation of
every post from scratch shows, and a new post recomputes only the module it reaches.

The history is generated: six weeks of questions, mentions, maintainers' answers,
holds, concerns on RFCs and CI failures about the example config's two modules,
delivered a few at a time while ticks (dry-run) record the reminders they decide.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bot.config import Config, load_config
from bot.core.mail import Envelope, parse_mail
from bot.features import module_views
from bot.features import views as feature_views
from bot.features.attention import attention
from bot.features.reminders import evaluate_modules
from bot.model import Post
from bot.store import Store
from bot.tick import run_ticks
from tests.mailgen import raw_mail
from tests.stores import ingest

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 11, 1, 8, tzinfo=UTC)
PEOPLE = (
    "Frank Fischer <frank@example.org>",
    "Bob Bauer <bob@example.org>",
    "Dana Dietz <dana@example.org>",
)
ALICE = "Alice Archer <alice@example.org>"  # maintains indexer and objstore
CAROL = "Carol Cortés <carol@example.org>"  # maintains objstore
TOPICS = ("indexer", "objstore", "the release notes", "[indexer] reindexing", "object store")
ASKS = (
    "How does {topic} handle a full disk?\n",
    "Alice Archer, could you look at {topic}?\n",
    "@ccortes what do you think about {topic}?\n",
    "I tried {topic} and it works for me.\n",
    "Is {topic} safe to use in production?\n",
)


def _config() -> Config:
    return load_config(ROOT / "config" / "example.toml")


def _mail(rng: random.Random, n: int, at: datetime, threads: list[tuple[str, str]]) -> bytes:
    """One generated mail: a new thread, or a reply in a thread begun before."""
    message_id = f"<gen-{n}@example.org>"
    date = format_datetime(at)
    extra = "List-Id: <dev.lists.example.org>"
    roll = rng.random()
    if roll < 0.08:
        name = rng.choice(["indexer-nightly", "objstore-nightly"])
        subject = (
            f"Jenkins build is back to normal : {name} #{n}"
            if rng.random() < 0.4
            else f"Build failed in Jenkins: {name} #{n}"
        )
        return raw_mail(
            "See the console output.\n",
            subject=subject,
            message_id=message_id,
            sender="jenkins@builds.example.org",
            date=date,
            extra=extra,
        )
    if roll < 0.35 or not threads:
        topic = rng.choice(TOPICS)
        subject = f"[RFC] Change {topic} {n}" if rng.random() < 0.3 else f"About {topic} {n}"
        threads.append((message_id, subject))
        body = rng.choice(ASKS).format(topic=topic)
        sender = rng.choice(PEOPLE)
    else:
        root, subject = rng.choice(threads[-12:])
        extra += f"\nIn-Reply-To: {root}\nReferences: {root}"
        subject = f"Re: {subject}"
        sender = rng.choice((*PEOPLE, ALICE, CAROL, ALICE, CAROL))
        body = rng.choice(
            (
                "Thanks, noted.\n",
                "@quorum hold\n",
                "@quorum unhold\n",
                "@quorum concern speed: this makes every lookup slower.\n",
                "I think the layout of contrib/objstore/backend.py is wrong; why?\n",
                *ASKS,
            )
        ).format(topic=rng.choice(TOPICS))
    return raw_mail(body, subject=subject, message_id=message_id, sender=sender, date=date,
                    extra=extra)  # fmt: skip


def _history(seed: int, days: int) -> Iterator[tuple[datetime, bytes]]:
    rng = random.Random(seed)
    threads: list[tuple[str, str]] = []
    at = START
    for n in range(days * 3):
        at += timedelta(hours=rng.uniform(1, 15))
        yield at, _mail(rng, n, at, threads)


def _figures(evaluation: Any) -> dict[str, Any]:
    found: dict[str, Any] = evaluation.to_dict()
    return found


def test_the_stored_figures_are_those_of_an_evaluation_from_scratch(tmp_path: Path):
    """Mail arrives, ticks record reminders (dry-run), time passes: at every moment the
    modules as the store keeps them (brought up to date for what changed since the
    last refresh, read as of now) equal an evaluation of every post of the window."""
    config = _config()
    db = tmp_path / "q.db"
    mails = list(_history(seed=13, days=45))
    moments = [START + timedelta(hours=17 * i) for i in range(1, 70)]
    # Then weeks without mail: rungs fall due, quiet periods end, obligations expire and
    # conversations leave the window, by the clock alone.
    moments += [moments[-1] + timedelta(days=days) for days in (9, 23, 41, 60, 75, 95, 130)]
    seen: dict[str, int] = {}
    checked = fewer = 0
    for i, now in enumerate(moments):
        store = Store.open(db)
        try:
            while mails and mails[0][0] <= now:
                at, raw = mails.pop(0)
                ingest(store, raw, arrived_at=at)
            scratch = _figures(evaluate_modules(store, config, now))
            assert _figures(module_views.current_evaluation(store, config, now)) == scratch, now
            checked += 1
            for obligation in scratch["obligations"]:
                seen[obligation["state"]] = seen.get(obligation["state"], 0) + 1
                seen[obligation["kind"]] = seen.get(obligation["kind"], 0) + 1
            seen["decisions"] = seen.get("decisions", 0) + len(scratch["decisions"])
            seen["catch-up"] = seen.get("catch-up", 0) + len(scratch["catch_up"])
        finally:
            store.close()
        if i % 3 == 0:
            # A tick: the views (and the modules) refreshed and stored, reminders recorded;
            # then the views job, which takes in the ladders those changed.
            asyncio.run(run_ticks(config, db, [now]))
            store = Store.open(db)
            try:
                feature_views.refresh(store, config, now)
                stored = _figures(module_views.stored_evaluation(store, config, now))
                scratch_now = evaluate_modules(store, config, now)
                assert stored == _figures(scratch_now), now
                # The front page reads only what "Needs attention" needs, and lists the same.
                front = module_views.StoredModules(config, front=True).read(store, now)
                assert _items(store, config, now, front) == _items(
                    store, config, now, scratch_now
                ), now
                fewer += len(front.obligations) < len(scratch_now.obligations)
            finally:
                store.close()
    assert checked == len(moments)
    # The history holds every kind of obligation and every way one ends.
    for kind in ("open", "discharged", "settled", "question", "mention", "concern", "ci-failure"):
        assert seen.get(kind, 0) > 0, (kind, seen)
    assert seen["decisions"] > 0
    assert fewer > 0


def _items(store: Store, config: Config, now: datetime, evaluation: Any) -> list[Any]:
    return list(attention(store, config, now, evaluation=evaluation).items)


def test_a_new_post_recomputes_only_the_module_it_reaches(tmp_path: Path):
    config = _config()
    now = START + timedelta(days=20)
    store = Store.open(tmp_path / "q.db")
    try:
        for at, raw in _history(seed=7, days=18):
            ingest(store, raw, arrived_at=at)
        first = feature_views.refresh(store, config, now)
        assert first.modules is not None
        assert sorted(first.modules.recomputed) == ["indexer", "objstore"]  # the first build

        asked = _new_mail(
            "Does the indexer keep its state across restarts?", "Indexer restarts", PEOPLE[0], now
        )
        ingest(store, asked, arrived_at=now)
        after = feature_views.refresh(store, config, now)
        assert after.modules is not None
        assert after.modules.recomputed == ["indexer"]
        # It is in the figures: one more open obligation of the indexer.
        before = {m["module"]: m["open"] for m in _figures_of(first)}
        shown = module_views.stored_evaluation(store, config, now)
        assert shown.figures("indexer").open == before["indexer"] + 1  # type: ignore[union-attr]

        unrelated = _new_mail("Lunch on Friday?", "Lunch", PEOPLE[1], now)
        ingest(store, unrelated, arrived_at=now)
        quiet = feature_views.refresh(store, config, now)
        assert quiet.modules is not None
        assert quiet.modules.recomputed == []
        assert _figures(module_views.stored_evaluation(store, config, now)) == _figures(
            evaluate_modules(store, config, now)
        )
    finally:
        store.close()


def _figures_of(result: feature_views.Plan) -> list[dict[str, Any]]:
    assert result.modules is not None
    return [figures for row in result.modules.rows for figures in row.payload["modules"]]


def test_a_post_in_another_thread_of_the_rfc_recomputes_the_module_it_pauses(tmp_path: Path):
    """A hold in one thread of an RFC pauses what is owed in all of them: the module a
    question in the RFC's other thread reaches is recomputed, though the hold is about
    nothing."""
    config = _config()
    asked = START + timedelta(days=1)
    store = Store.open(tmp_path / "q.db")
    list_id = "List-Id: <dev.lists.example.org>"

    def mail(n: str, subject: str, body: str, at: datetime, sender: str, extra: str = "") -> None:
        raw = raw_mail(body, subject=subject, message_id=f"<{n}@example.org>", sender=sender,
                       date=format_datetime(at), extra=f"{list_id}{extra}")  # fmt: skip
        ingest(store, raw, arrived_at=at)

    try:
        mail("a1", "[RFC] RFC #95: segment storage", "How will the indexer store segments?\n",
             asked, PEOPLE[0])  # fmt: skip
        mail("b1", "RFC #95 meeting notes", "Notes from the call.\n", asked, PEOPLE[1])
        feature_views.refresh(store, config, asked + timedelta(hours=1))
        held = asked + timedelta(days=1)
        mail("b2", "Re: RFC #95 meeting notes", "@quorum hold\n", held, PEOPLE[1],
             "\nIn-Reply-To: <b1@example.org>")  # fmt: skip
        now = held + timedelta(hours=1)
        result = feature_views.refresh(store, config, now)
        scratch = evaluate_modules(store, config, now)
        paused = [o for o in scratch.obligations if o.state.value == "paused"]
        assert [o.post.key for o in paused] == ["<a1@example.org>"]
        assert result.modules is not None
        assert result.modules.recomputed == ["indexer"]
        assert _figures(module_views.stored_evaluation(store, config, now)) == _figures(scratch)
    finally:
        store.close()


def _new_mail(text: str, subject: str, sender: str, now: datetime) -> bytes:
    """A mail to the list a few minutes before ``now``, its Message-ID from its subject."""
    slug = subject.casefold().replace(" ", "-")
    return raw_mail(
        f"{text}\n",
        subject=subject,
        message_id=f"<{slug}@example.org>",
        sender=sender,
        date=format_datetime(now - timedelta(minutes=5)),
        extra="List-Id: <dev.lists.example.org>",
    )


def test_a_post_read_again_costs_nothing_unless_it_or_the_modules_changed():
    """Each post's reach is remembered: a thread read again after a new post works out
    only the new post's; an edited post, or new modules, are worked out again."""
    post = _as_post(_new_mail("How does the indexer store segments?", "Segments", PEOPLE[0],
                                 START))  # fmt: skip
    edited = replace(post, text="Alice Archer, how does the indexer store segments?\n")
    remembered = module_views.PostReach(size=2)
    computed: list[str] = []

    def reach(of: Post, print_: str = "v1") -> frozenset[str]:
        def compute() -> frozenset[str]:
            computed.append(of.text)
            return frozenset({of.text})

        return remembered.of((print_, (), of), compute)

    assert reach(post) == frozenset({post.text})
    assert reach(post) == frozenset({post.text})
    assert computed == [post.text]  # read again: remembered
    assert reach(edited) == frozenset({edited.text})  # same key, new text
    assert reach(post, "v2") == frozenset({post.text})  # new modules
    assert len(computed) == 3
    # At most ``size`` posts: the one used longest ago goes first.
    reach(edited)
    reach(post)
    assert len(computed) == 4


def _as_post(raw: bytes) -> Post:
    """A mail as a post, without a store."""
    return parse_mail(raw, Envelope(arrived_at=START))
