"""Who owes what across channels: forum categories, configured lists, the bot's own mail.

The forum posts come from the fake Discourse over HTTP, the mail through the
store as the SMTP endpoint stores it; the evaluation is the reminder feature's.
"""

from __future__ import annotations

import email
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.core.discourse import ForumSite
from bot.core.reminders import ObligationKind
from bot.features.reminders import evaluate_modules
from bot.store import Store
from bot.sync import direct_db
from bot.sync.forum import make_client, sync_forum
from bot.tick import run_ticks
from tests.fakes.discourse import FakeDiscourse
from tests.fakes.smtp_sink import SmtpSink
from tests.mailgen import raw_mail
from tests.stores import ingest, sample_store

ASKED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = ASKED + timedelta(days=7, hours=1)  # past the S0 reminder threshold, not a backlog
ROOT = Path(__file__).resolve().parent.parent


def _config(forum: FakeDiscourse, followed: dict[str, int], **responsiveness: object) -> Config:
    return Config.model_validate(
        {
            "modules": {
                "objstore": {
                    "state": "S0",
                    "maintainers": ["Carol Cortés"],
                    "keywords": ["objstore"],
                    # The category's name, as people write it; its slug is object-store.
                    "categories": ["Object Store"],
                }
            },
            "identities": {"Carol Cortés": ["carol@example.org", "carol"]},
            "responsiveness": responsiveness,
            "discourse": {
                "forums": {
                    "tvm": {
                        "base_url": forum.base_url,
                        "api_username": forum.api_username,
                        "categories": [{"slug": s, "id": i} for s, i in followed.items()],
                    }
                },
                "webhooks": {"enabled": False},
            },
        }
    )


@pytest.fixture
async def forum(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscourse]:
    fake = FakeDiscourse(clock=lambda: ASKED)
    monkeypatch.setenv("QUORUM_DISCOURSE_API_KEY", fake.api_key)
    await fake.start()
    fake.add_user("frank")
    yield fake
    await fake.stop()


async def _store_with(forum: FakeDiscourse, config: Config, db: Path) -> Store:
    assert config.discourse is not None
    settings = config.discourse.forums["tvm"]
    store = Store.open(db)
    async with make_client("tvm", settings) as client:
        await sync_forum(client, direct_db(store), ForumSite("tvm", forum.base_url), settings)
    return store


def _open_questions(store: Store, config: Config) -> set[str]:
    evaluation = evaluate_modules(store, config, NOW)
    return {
        o.post.subject
        for o in evaluation.obligations
        if o.is_open and o.kind is ObligationKind.QUESTION
    }


async def test_module_categories_match_forum_topics_and_scope_keeps_other_categories_out(
    forum: FakeDiscourse, tmp_path: Path
):
    objstore = forum.add_category("object-store", "Object Store")
    general = forum.add_category("general", "General")
    # No keyword of the module: only its category says it is about objstore.
    forum.add_topic(
        objstore, "S3 versions", [("frank", "Does the backend keep S3 versions?")], created_at=ASKED
    )
    forum.add_topic(
        general, "Objstore at home", [("frank", "Can I run objstore on a NAS?")], created_at=ASKED
    )
    categories = {"object-store": objstore, "general": general}

    everywhere = _config(forum, categories)
    store = await _store_with(forum, everywhere, tmp_path / "q.db")
    try:
        assert _open_questions(store, everywhere) == {"S3 versions", "Objstore at home"}
        scoped = _config(forum, categories, categories=["object-store"])
        assert _open_questions(store, scoped) == {"S3 versions"}
        by_id = _config(forum, categories, categories=[str(objstore)])
        assert _open_questions(store, by_id) == {"S3 versions"}
    finally:
        store.close()


def test_a_users_list_question_opens_no_obligation_unless_that_list_is_configured(
    tmp_path: Path,
):
    config = Config.model_validate(
        {
            "modules": {
                "objstore": {"state": "S0", "maintainers": ["Carol"], "keywords": ["objstore"]}
            },
            "responsiveness": {},
        }
    )
    store = Store.open(tmp_path / "q.db")
    try:
        for number, list_id in ((1, "dev.lists.example.org"), (2, "users.lists.example.org")):
            ingest(
                store,
                raw_mail(
                    "Does objstore keep S3 versions?\n",
                    subject=f"Versions {list_id.split('.')[0]}",
                    message_id=f"<q{number}@example.org>",
                    sender="Frank Fischer <frank@example.com>",
                    date="Mon, 02 Nov 2026 09:00:00 +0000",
                    extra=f"List-Id: <{list_id}>",
                ),
            )
        assert _open_questions(store, config) == {"Versions dev"}
        users_too = config.model_copy(
            update={
                "responsiveness": config.responsiveness.model_copy(  # type: ignore[union-attr]
                    update={"lists": ["dev.lists.example.org", "users@lists.example.org"]}
                )
            }
        )
        assert _open_questions(store, users_too) == {"Versions dev", "Versions users"}
    finally:
        store.close()


def test_bot_and_ci_mail_never_open_a_question(tmp_path: Path):
    config = Config.model_validate(
        {
            "modules": {
                "objstore": {"state": "S0", "maintainers": ["Carol"], "keywords": ["objstore"]}
            },
            "responsiveness": {"loop_id": "loop@quorum.example.org"},
        }
    )
    store = Store.open(tmp_path / "q.db")
    try:
        mails = [
            # Our own reminder, back from the list: it carries our X-Loop.
            ("Quorum <robot@example.org>", "X-Loop: loop@quorum.example.org"),
            # A build notice asking nothing of anyone, with a question in its log.
            ("Jenkins <jenkins@builds.example.org>", "Auto-Submitted: auto-generated"),
        ]
        for number, (sender, header) in enumerate(mails):
            ingest(
                store,
                raw_mail(
                    "Is objstore green again?\n",
                    subject=f"objstore status {number}",
                    message_id=f"<auto{number}@example.org>",
                    sender=sender,
                    date="Mon, 02 Nov 2026 09:00:00 +0000",
                    extra=header,
                ),
            )
        assert _open_questions(store, config) == set()
    finally:
        store.close()


async def test_loop_id_is_the_x_loop_our_mail_carries(tmp_path: Path):
    sink = SmtpSink()
    await sink.start()
    try:
        example = load_config(ROOT / "config" / "example.toml")
        assert example.responsiveness is not None
        config = example.model_copy(
            update={
                "responsiveness": example.responsiveness.model_copy(
                    update={"loop_id": "dev-quorum@lists.example.org"}
                ),
                "dispatch": example.dispatch.model_copy(update={"dry_run": False}),
                "mail_out": example.mail_out.model_copy(
                    update={
                        "enabled": True,
                        "host": sink.host,
                        "port": sink.port,
                        "starttls": False,
                    }
                ),
            }
        )
        db = sample_store(tmp_path / "q.db")
        # Half an hour after Frank's question passed the S1 reminder threshold.
        await run_ticks(config, db, [datetime(2026, 11, 20, 19, 30, tzinfo=UTC)], send=True)
    finally:
        await sink.stop()
    [reply] = [email.message_from_bytes(m.raw) for m in sink.messages]
    assert reply["X-Loop"] == "dev-quorum@lists.example.org"
    assert reply["Auto-Submitted"] == "auto-generated"
