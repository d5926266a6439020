"""Who owes an answer: obligations, the escalation ladder, pauses and figures, on a fake clock.

Every time is explicit: posts carry a Date header built from ``T0`` and
``evaluate`` gets ``now``. Nothing here reads the clock.
"""

from __future__ import annotations

import email.utils
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.commands import Command, Verb, parse_commands
from bot.core.concerns import Concern, ConcernSource, ConcernState, PostRef
from bot.core.mail import Envelope, parse_mail
from bot.core.modules import Module, ModuleState
from bot.core.people import People, TrustSettings
from bot.core.reminders import (
    DEFAULT_POLICY,
    Audience,
    Delivery,
    EscalationPolicy,
    Evaluation,
    Hold,
    ModuleConcern,
    ObligationKind,
    ObligationState,
    QuietPeriod,
    Stage,
    StagePolicy,
    asks_question,
    evaluate,
    format_duration,
    holds_from_commands,
    median,
    percentile,
)
from bot.core.rules import BotIdentity, may_answer
from bot.model import Person, Post
from tests.mailgen import raw_mail

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
THREAD = "<q1@example.org>"

ALICE = "Alice Archer <alice@example.org>"
BOB = "Bob Baker <bob@example.org>"
DANA = "Dana Diaz <dana@example.org>"
CAROL = "Carol Chen <carol@example.org>"
QUORUM = "Quorum <quorum@example.org>"

OBJSTORE = Module(
    name="objstore",
    state=ModuleState.S0,
    maintainers=("Bob Baker",),
    keywords=("objstore",),
    tags=("objstore",),
)
AUTH = Module(name="auth", state=ModuleState.S2, maintainers=("Carol Chen",), keywords=("auth",))
IDENTITIES = People(
    {
        "Bob Baker": ("bob@example.org", "bbaker"),
        "Dana Diaz": ("dana@example.org", "ddiaz"),
        "Carol Chen": ("carol@example.org", "cchen"),
    }
)
BOT = BotIdentity(frozenset({"quorum@example.org"}), "quorum@example.org")


def mail(
    number: int,
    at: datetime,
    body: str,
    *,
    sender: str = ALICE,
    subject: str = "[objstore] retries",
    thread: str = THREAD,
    extra: str = "",
) -> Post:
    """A raw mail parsed as the store would see it, threaded into ``thread``."""
    raw = raw_mail(
        body,
        subject=subject,
        message_id=f"<q{number}@example.org>",
        sender=sender,
        date=email.utils.format_datetime(at),
        extra=extra,
    )
    post = parse_mail(raw, Envelope(at))
    return replace(post, thread_key=thread)


def question(at: datetime = T0) -> Post:
    return mail(1, at, "Should objstore retry on a 503?\n")


def run(
    posts: list[Post],
    now: datetime,
    *,
    modules: tuple[Module, ...] = (OBJSTORE, AUTH),
    **options: Any,
) -> Evaluation:
    return evaluate(posts, modules, DEFAULT_POLICY, now, identities=IDENTITIES, bot=BOT, **options)


def stages(evaluation: Evaluation) -> list[tuple[Stage, Audience]]:
    return [(d.stage, d.channel) for d in evaluation.decisions]


# --------------------------------------------------------------------------
# The ladder
# --------------------------------------------------------------------------


def test_a_question_to_an_s0_module_is_reminded_after_exactly_seven_days():
    posts = [question()]
    assert run(posts, T0 + 7 * DAY - timedelta(minutes=1)).decisions == ()

    evaluation = run(posts, T0 + 7 * DAY)

    # One reminder per channel: a Slack mention and a reply in the thread.
    assert stages(evaluation) == [(Stage.REMIND, Audience.SLACK), (Stage.REMIND, Audience.THREAD)]
    (obligation,) = evaluation.obligations
    assert obligation.kind is ObligationKind.QUESTION
    assert obligation.state is ObligationState.OPEN
    assert obligation.waiting == 7 * DAY
    assert obligation.stage is Stage.REMIND
    slack, thread = evaluation.decisions
    assert slack.rule == "S0 policy: remind after 7 days"
    assert slack.policy == "S0 policy"
    assert slack.threshold == 7 * DAY
    assert slack.persons == ("Bob Baker",)
    assert slack.post.key == "<q1@example.org>"
    assert slack.post.at == T0
    assert slack.due_at == T0 + 7 * DAY
    assert "Alice Archer asked a question about objstore on 2026-11-02 09:00 UTC" in slack.reason
    assert "no maintainer of objstore (Bob Baker) has answered for 7 days" in slack.reason
    assert thread.target == "<q1@example.org>"
    assert slack.target == "objstore"


def delivered(kind: str, at: datetime, *channels: str) -> list[Delivery]:
    """What the outbox records once a stage went out (sent) on these channels."""
    return [Delivery(kind, channel, at, at) for channel in channels]


def test_at_fourteen_days_one_escalation_after_the_delivered_reminder():
    posts = [question()]
    day7 = run(posts, T0 + 7 * DAY)
    # Nothing delivered yet: the reminder is what is due, never the escalation with it.
    assert stages(run(posts, T0 + 14 * DAY)) == [
        (Stage.REMIND, Audience.SLACK),
        (Stage.REMIND, Audience.THREAD),
    ]
    ladder = {"objstore:<q1@example.org>": delivered("remind", T0 + 7 * DAY, "slack", "mail")}
    day14 = run(posts, T0 + 14 * DAY, ladder=ladder)

    assert stages(day14) == [(Stage.ESCALATE, Audience.LIST), (Stage.ESCALATE, Audience.PMC)]
    escalation = day14.decisions[0]
    assert escalation.rule == "S0 policy: escalate after 14 days"
    assert escalation.key == "escalate:list:module=objstore:2:<q1@example.org>"
    assert escalation.due_at == T0 + 14 * DAY
    assert escalation.history == tuple(ladder["objstore:<q1@example.org>"])
    assert day7.decisions[0].key == "remind:slack:module=objstore:1:<q1@example.org>"


def test_a_late_reminder_moves_the_escalation_by_as_much():
    posts = [question()]
    ladder = {"objstore:<q1@example.org>": delivered("remind", T0 + 10 * DAY, "slack")}
    assert run(posts, T0 + 17 * DAY - HOUR, ladder=ladder).decisions == ()
    assert stages(run(posts, T0 + 17 * DAY, ladder=ladder))[0] == (Stage.ESCALATE, Audience.LIST)


def test_a_reminder_recorded_but_not_delivered_holds_the_ladder():
    queued = [Delivery("remind", "slack", T0 + 7 * DAY)]  # capped: never delivered
    evaluation = run([question()], T0 + 40 * DAY, ladder={"objstore:<q1@example.org>": queued})
    assert evaluation.decisions == ()
    assert evaluation.obligations[0].next_stage is Stage.ESCALATE
    assert evaluation.obligations[0].next_due is None


def test_at_thirty_days_the_module_is_flagged_with_the_evidence():
    posts = [question(), mail(2, T0 + 2 * DAY, "@bbaker ping?\n", subject="Hi", thread="<t2@x>")]
    ladder = {
        "objstore:<q1@example.org>": [
            *delivered("remind", T0 + 7 * DAY, "slack"),
            *delivered("escalate", T0 + 14 * DAY, "list", "pmc"),
        ]
    }
    evaluation = run(posts, T0 + 30 * DAY, ladder=ladder)

    (flag,) = evaluation.flags
    assert flag.module == "objstore"
    assert flag.rule == "S0 policy: flag after 30 days"
    assert flag.since == T0 + 30 * DAY
    assert [(e.post.key, e.opened_at, e.kind) for e in flag.evidence] == [
        ("<q1@example.org>", T0, ObligationKind.QUESTION),
        ("<q2@example.org>", T0 + 2 * DAY, ObligationKind.MENTION),
    ]
    flags = [d for d in evaluation.decisions if d.stage is Stage.FLAG]
    assert [(d.channel, d.post.key) for d in flags] == [(Audience.DASHBOARD, "<q1@example.org>")]
    # A flag decision carries its own post's evidence; the module's flag holds all of it.
    assert flags[0].evidence == (flag.evidence[0],)
    figures = evaluation.figures("objstore")
    assert figures is not None
    assert figures.flagged


def test_the_thresholds_follow_the_module_state():
    posts = [mail(1, T0, "Is auth broken?\n", subject="auth")]
    assert stages(run(posts, T0 + 3 * DAY - HOUR)) == []
    evaluation = run(posts, T0 + 3 * DAY)
    assert evaluation.decisions[0].rule == "S2 policy: remind after 3 days"
    assert evaluation.decisions[0].persons == ("Carol Chen",)


def test_a_maintainer_reply_stops_the_ladder():
    posts = [question(), mail(2, T0 + 3 * DAY, "Yes, it should.\n", sender=BOB)]
    evaluation = run(posts, T0 + 30 * DAY)

    (obligation,) = evaluation.obligations
    assert obligation.state is ObligationState.DISCHARGED
    assert obligation.responder == "Bob Baker"
    assert obligation.closed_by is not None
    assert obligation.closed_by.key == "<q2@example.org>"
    assert obligation.waiting == 3 * DAY
    assert obligation.stage is Stage.NONE
    assert evaluation.decisions == ()


def test_a_reply_after_the_reminder_stops_the_rest_of_the_ladder():
    posts = [question(), mail(2, T0 + 8 * DAY, "Looking.\n", sender=BOB)]
    assert run(posts[:1], T0 + 7 * DAY).decisions
    assert run(posts, T0 + 30 * DAY).decisions == ()


def test_other_people_replying_do_not_discharge():
    posts = [question(), mail(2, T0 + DAY, "Good question.\n", sender=DANA)]
    assert run(posts, T0 + 7 * DAY).obligations[0].is_open


def test_the_bots_own_posts_neither_discharge_nor_open_anything():
    reminder = mail(
        2,
        T0 + 7 * DAY,
        "@bbaker, this question about objstore waits for an answer. Can you help?\n",
        sender=QUORUM,
        extra="Auto-Submitted: auto-replied\nX-Loop: quorum@example.org",
    )
    # The list rewrote From, but X-Loop still says it was us.
    relayed = mail(
        3,
        T0 + 8 * DAY,
        "Any news on objstore?\n",
        sender="Dev list <dev@lists.example.org>",
        extra="X-Loop: quorum@example.org",
    )
    evaluation = run([question(), reminder, relayed], T0 + 14 * DAY)

    assert [o.post.key for o in evaluation.obligations] == ["<q1@example.org>"]
    assert evaluation.obligations[0].is_open
    assert evaluation.obligations[0].waiting == 14 * DAY


def test_auto_generated_mail_opens_nothing_and_is_not_answered():
    auto = mail(
        1,
        T0,
        "@bbaker: is objstore down?\n",
        sender="Monitor <monitor@example.org>",
        extra="Auto-Submitted: auto-generated",
    )
    assert not may_answer(auto, BOT)
    assert run([auto], T0 + 60 * DAY).obligations == ()


def test_auto_generated_mail_from_a_maintainer_does_not_discharge():
    vacation = mail(2, T0 + DAY, "I am away.\n", sender=BOB, extra="Auto-Submitted: auto-replied")
    assert run([question(), vacation], T0 + 7 * DAY).obligations[0].is_open


# --------------------------------------------------------------------------
# Pauses
# --------------------------------------------------------------------------


def test_a_quiet_period_defers_the_reminder_by_exactly_its_length():
    away = QuietPeriod("Bob Baker", T0 + 2 * DAY, T0 + 5 * DAY)
    posts = [question()]
    assert run(posts, T0 + 10 * DAY - timedelta(minutes=1), quiet=[away]).decisions == ()

    evaluation = run(posts, T0 + 10 * DAY, quiet=[away])
    assert stages(evaluation)[0] == (Stage.REMIND, Audience.SLACK)
    assert evaluation.decisions[0].due_at == T0 + 10 * DAY
    assert evaluation.obligations[0].paused == 3 * DAY
    assert "not counting 3 days paused" in evaluation.decisions[0].reason


def test_while_a_maintainer_is_away_the_obligation_is_paused():
    away = QuietPeriod("bob baker", T0 + 2 * DAY, T0 + 40 * DAY)
    (obligation,) = run([question()], T0 + 30 * DAY, quiet=[away]).obligations
    assert obligation.state is ObligationState.PAUSED
    assert obligation.waiting == 2 * DAY


def test_one_maintainer_away_does_not_pause_a_module_another_can_answer_for():
    shared = replace(OBJSTORE, maintainers=("Bob Baker", "Dana Diaz"))
    away = QuietPeriod("Bob Baker", T0, T0 + 20 * DAY)
    evaluation = run([question()], T0 + 7 * DAY, quiet=[away], modules=(shared,))
    assert stages(evaluation)[0] == (Stage.REMIND, Audience.SLACK)
    # The reminder goes to whoever is around.
    assert evaluation.decisions[0].persons == ("Dana Diaz",)


def test_a_hold_pauses_and_an_unhold_resumes():
    held = Hold(THREAD, T0 + DAY, T0 + 4 * DAY)
    assert run([question()], T0 + 10 * DAY - HOUR, holds=[held]).decisions == ()
    evaluation = run([question()], T0 + 10 * DAY, holds=[held])
    assert evaluation.decisions[0].due_at == T0 + 10 * DAY


def test_a_hold_without_unhold_stops_the_clock():
    (obligation,) = run([question()], T0 + 60 * DAY, holds=[Hold(THREAD, T0 + DAY)]).obligations
    assert obligation.state is ObligationState.PAUSED
    assert obligation.waiting == DAY


def test_overlapping_pauses_count_once():
    pauses = {
        "holds": [Hold(THREAD, T0 + DAY, T0 + 3 * DAY), Hold(THREAD, T0 + 2 * DAY, T0 + 4 * DAY)],
        "quiet": [QuietPeriod("Bob Baker", T0 + 3 * DAY, T0 + 5 * DAY)],
    }
    (obligation,) = run([question()], T0 + 15 * DAY, **pauses).obligations
    assert obligation.paused == 4 * DAY
    assert obligation.due == ((Stage.REMIND, T0 + 11 * DAY),)


def test_holds_from_hold_and_unhold_commands():
    hold_post = mail(2, T0 + DAY, "@quorum hold waiting for legal\n", sender=CAROL)
    again = mail(3, T0 + 2 * DAY, "@quorum hold\n", sender=CAROL)
    unhold_post = mail(4, T0 + 4 * DAY, "@quorum unhold\n", sender=CAROL)
    last = mail(5, T0 + 9 * DAY, "@quorum hold\n", sender=CAROL)
    commands = [
        c
        for p in (last, unhold_post, again, hold_post)
        for c in parse_commands(p)
        if isinstance(c, Command)
    ]
    assert {c.verb for c in commands} == {Verb.HOLD, Verb.UNHOLD}
    assert holds_from_commands(THREAD, commands) == (
        Hold(THREAD, T0 + DAY, T0 + 4 * DAY),
        Hold(THREAD, T0 + 9 * DAY, None),
    )


# --------------------------------------------------------------------------
# What opens an obligation, and what closes it
# --------------------------------------------------------------------------


def test_a_mention_opens_an_obligation_even_off_topic():
    post = mail(1, T0, "@bbaker could you look at my patch.\n", subject="Patch")
    (obligation,) = run([post], T0 + DAY).obligations
    assert obligation.module == "objstore"
    assert obligation.kind is ObligationKind.MENTION
    assert obligation.addressed == ("Bob Baker",)
    assert obligation.reasons == ("Alice Archer mentioned Bob Baker",)


def test_a_post_that_mentions_and_asks_is_owed_one_answer():
    post = mail(1, T0, "@bbaker should objstore retry?\n")
    (obligation,) = run([post], T0 + DAY).obligations
    assert obligation.kind is ObligationKind.MENTION
    assert len(obligation.reasons) == 2


def test_maintainers_talking_among_themselves_open_nothing():
    post = mail(1, T0, "Should objstore retry? I think so.\n", sender=BOB)
    assert run([post], T0 + 30 * DAY).obligations == ()


def test_statements_urls_and_code_are_not_questions():
    assert asks_question(question())
    assert asks_question(mail(1, T0, "Thoughts?!\n"))
    assert not asks_question(mail(1, T0, "See https://example.org/?a=1 for details.\n"))
    assert not asks_question(mail(1, T0, "It works.\n\n    what()?\n"))
    assert not asks_question(mail(1, T0, "Use `x?` here.\n"))


def test_a_reply_in_another_thread_of_the_same_rfc_discharges():
    reply = mail(2, T0 + DAY, "Answered on the vote thread.\n", sender=BOB, thread="<vote@x>")
    rfc_of = {THREAD: "rfc-7", "<vote@x>": "rfc-7"}
    assert run([question(), reply], T0 + 7 * DAY).obligations[0].is_open
    evaluation = run([question(), reply], T0 + 7 * DAY, rfc_of=rfc_of)
    assert evaluation.obligations[0].state is ObligationState.DISCHARGED


def github_comment(*, through_list: bool) -> Post:
    """Bob's comment as GitHub mirrors it to the list; maybe a hand-made copy of one."""
    received = "Received: from lists.example.org (lists.example.org [192.0.2.7]) by mx\n"
    return mail(
        2,
        T0 + DAY,
        "Yes.\n",
        sender="Bob Baker <notifications@github.com>",
        extra=(received if through_list else "")
        + "X-GitHub-Reason: comment\nX-GitHub-Sender: bbaker",
    )


def test_a_github_relayed_comment_by_a_maintainer_discharges():
    comment = github_comment(through_list=True)
    assert not may_answer(comment, BOT)
    trusted = replace(IDENTITIES, trust=TrustSettings(list_hosts=("lists.example.org",)))
    evaluation = evaluate(
        [question(), comment], (OBJSTORE, AUTH), DEFAULT_POLICY, T0 + 7 * DAY,
        identities=trusted, bot=BOT,
    )  # fmt: skip
    assert evaluation.obligations[0].responder == "Bob Baker"


def test_a_hand_made_github_comment_discharges_nothing():
    # The same comment, sent straight to the bot: GitHub's From is anyone's to write.
    comment = github_comment(through_list=False)
    trusted = replace(IDENTITIES, trust=TrustSettings(list_hosts=("lists.example.org",)))
    evaluation = evaluate(
        [question(), comment], (OBJSTORE, AUTH), DEFAULT_POLICY, T0 + 7 * DAY,
        identities=trusted, bot=BOT,
    )  # fmt: skip
    assert evaluation.obligations[0].is_open
    assert evaluation.obligations[0].responder is None


def test_a_borrowed_display_name_discharges_nothing():
    forged = mail(2, T0 + DAY, "Answered, no retry needed.\n", sender="Bob Baker <m@evil.example>")
    obligation = run([question(), forged], T0 + 7 * DAY).obligations[0]
    assert obligation.is_open
    assert obligation.responder is None


def _concern(state: ConcernState = ConcernState.OPEN) -> Concern:
    settled = PostRef("<q3@example.org>", "Dana Diaz", T0 + 2 * DAY)
    return Concern(
        thread=THREAD,
        id="retries",
        title="Retries could hide outages",
        text="Retries could hide outages.",
        raised_by=Person("Dana Diaz", "dana@example.org"),
        raised_at=T0 + HOUR,
        post="<q2@example.org>",
        source=ConcernSource.DETECTED,
        state=state,
        withdrawn_by=settled if state is ConcernState.WITHDRAWN else None,
    )


def test_a_concern_on_an_rfc_the_module_champions_opens_an_obligation():
    posts = [question(), mail(2, T0 + HOUR, "I am concerned.\n", sender=DANA)]
    concerns = [ModuleConcern(_concern(), "objstore")]
    evaluation = run(posts, T0 + 7 * DAY, concerns=concerns)
    kinds = {o.post.key: o.kind for o in evaluation.obligations}
    assert kinds == {"<q1@example.org>": ObligationKind.QUESTION, "<q2@example.org>": "concern"}


def test_a_withdrawn_concern_is_settled_not_answered():
    concerns = [ModuleConcern(_concern(ConcernState.WITHDRAWN), "objstore")]
    (obligation,) = run([], T0 + 7 * DAY, concerns=concerns).obligations
    assert obligation.state is ObligationState.SETTLED
    assert obligation.responder is None
    assert obligation.waiting == 2 * DAY - HOUR
    assert run([], T0 + 7 * DAY, concerns=concerns).decisions == ()


# --------------------------------------------------------------------------
# CI failures
# --------------------------------------------------------------------------

JENKINS = "Apache Jenkins Server <jenkins@builds.apache.org>"


def ci(number: int, at: datetime, subject: str) -> Post:
    return mail(number, at, "See the console.\n", sender=JENKINS, subject=subject, thread="")


def test_ci_failures_are_counted_per_module_and_open_one_obligation_per_run():
    posts = [
        ci(1, T0, "Build failed in Jenkins: objstore-nightly #1"),
        ci(2, T0 + DAY, "Build failed in Jenkins: objstore-nightly #2"),
        ci(3, T0 + DAY, "Build failed in Jenkins: auth-nightly #7"),
        ci(4, T0 + 2 * DAY, "Build failed in Jenkins: objstore-nightly #3"),
        ci(5, T0 + 3 * DAY, "Jenkins build is back to normal : objstore-nightly #4"),
        ci(6, T0 + 5 * DAY, "Build failed in Jenkins: objstore-nightly #5"),
    ]
    evaluation = run(posts, T0 + 13 * DAY)

    objstore = evaluation.figures("objstore")
    assert objstore is not None
    assert objstore.ci_failures == 4
    assert objstore.ci_failure_dates == (T0, T0 + DAY, T0 + 2 * DAY, T0 + 5 * DAY)
    assert objstore.ci_failures_since(T0 + 2 * DAY) == 2
    auth = evaluation.figures("auth")
    assert auth is not None
    assert auth.ci_failures == 1

    runs = [o for o in evaluation.obligations if o.module == "objstore"]
    assert [(o.post.key, o.state, len(o.repeats)) for o in runs] == [
        ("<q1@example.org>", ObligationState.SETTLED, 2),
        ("<q6@example.org>", ObligationState.OPEN, 0),
    ]
    assert runs[0].closed_by is not None
    assert runs[0].closed_by.key == "<q5@example.org>"
    # CI mail is never answered in its thread: the reminder goes to Slack only.
    assert [(d.module, d.channel) for d in evaluation.decisions if d.stage is Stage.REMIND] == [
        ("auth", Audience.SLACK),
        ("objstore", Audience.SLACK),
    ]


def test_a_maintainer_answering_a_failure_closes_the_run():
    failure = ci(1, T0, "Build failed in Jenkins: objstore-nightly #1")
    answer = mail(2, T0 + HOUR, "On it.\n", sender=BOB, thread="<q1@example.org>")
    later = ci(3, T0 + DAY, "Build failed in Jenkins: objstore-nightly #2")
    evaluation = run([failure, answer, later], T0 + 2 * DAY)
    assert [(o.post.key, o.state) for o in evaluation.obligations] == [
        ("<q1@example.org>", ObligationState.DISCHARGED),
        ("<q3@example.org>", ObligationState.OPEN),
    ]


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def test_figures_on_a_small_hand_computed_set():
    # Five questions in five threads, answered after 1, 2, 3, 4 and 10 hours;
    # Bob answers three (1, 3, 10 h), Dana two (2, 4 h). A sixth stays open.
    shared = replace(OBJSTORE, maintainers=("Bob Baker", "Dana Diaz"))
    delays = [(1, BOB), (2, DANA), (3, BOB), (4, DANA), (10, BOB)]
    posts: list[Post] = []
    for index, (hours, who) in enumerate(delays):
        asked = T0 + index * DAY
        thread = f"<t{index}@example.org>"
        posts.append(mail(10 + index, asked, "Is objstore ok?\n", thread=thread))
        posts.append(mail(20 + index, asked + hours * HOUR, "Yes.\n", sender=who, thread=thread))
    posts.append(mail(30, T0 + 6 * DAY, "Why does objstore leak?\n", thread="<open@x>"))

    evaluation = run(posts, T0 + 7 * DAY, modules=(shared,))

    (module,) = evaluation.modules
    assert (module.open, module.discharged) == (1, 5)
    assert module.median_response == 3 * HOUR
    assert module.p90_response == 10 * HOUR  # nearest rank: ceil(0.9 * 5) = 5th of 5
    assert module.last_activity == T0 + 4 * DAY + 10 * HOUR
    bob = evaluation.maintainer("bob baker")
    dana = evaluation.maintainer("Dana Diaz")
    assert bob is not None
    assert dana is not None
    assert (bob.answered, bob.median_response, bob.p90_response) == (3, 3 * HOUR, 10 * HOUR)
    assert (dana.answered, dana.median_response, dana.p90_response) == (2, 3 * HOUR, 4 * HOUR)
    assert (bob.open, dana.open) == (1, 1)
    assert dana.last_activity == T0 + 3 * DAY + 4 * HOUR


def test_median_and_percentile():
    hours = [timedelta(hours=h) for h in (5, 1, 3, 2, 4, 6, 7, 8, 9, 10)]
    assert median(hours) == timedelta(hours=5.5)
    assert percentile(hours, 0.9) == timedelta(hours=9)
    assert median([]) is None
    assert percentile([], 0.9) is None


# --------------------------------------------------------------------------
# Idempotence and policy
# --------------------------------------------------------------------------


def test_reruns_and_redeliveries_give_the_same_decisions():
    posts = [question(), mail(2, T0 + 2 * DAY, "@bbaker ping?\n", subject="Hi", thread="<x@y>")]
    first = run(posts, T0 + 20 * DAY)
    again = run(list(reversed(posts)) + posts, T0 + 20 * DAY)
    assert first == again
    assert len({d.key for d in first.decisions}) == len(first.decisions)
    later = run(posts, T0 + 25 * DAY)
    assert {d.key for d in first.decisions} <= {d.key for d in later.decisions}


def test_posts_from_the_future_are_not_seen():
    assert run([question(T0 + DAY)], T0).obligations == ()


def test_decisions_become_outbox_actions():
    decision = run([question()], T0 + 7 * DAY).decisions[1]
    action = decision.action("Bob, Alice's question waits for you.")
    assert (action.kind, action.target, action.channel) == ("remind", "<q1@example.org>", "")
    assert action.key == decision.key
    assert action.reason.startswith("S0 policy: remind after 7 days; Alice Archer asked")


def test_the_evaluation_serialises_to_json():
    evaluation = run([question()], T0 + 30 * DAY)
    data = json.loads(json.dumps(evaluation.to_dict()))
    assert data["decisions"][0]["rule"] == "S0 policy: remind after 7 days"
    assert data["obligations"][0]["waiting"] == 30 * 86400


def test_default_policy_table():
    table = {
        state: tuple(
            DEFAULT_POLICY.for_state(state).threshold(s) // DAY
            for s in (Stage.REMIND, Stage.ESCALATE, Stage.FLAG)
        )
        for state in ModuleState
    }
    assert table == {
        ModuleState.S0: (7, 14, 30),
        ModuleState.S1: (5, 10, 21),
        ModuleState.S2: (3, 7, 14),
        ModuleState.DEPRECATED: (14, 28, 60),
    }


def test_a_custom_policy_is_named_in_the_reminder():
    custom = EscalationPolicy(s0=StagePolicy("Fast S0", HOUR, 2 * HOUR, 36 * HOUR))
    ladder = {"objstore:<q1@example.org>": delivered("remind", T0 + HOUR, "slack")}
    evaluation = evaluate(
        [question()], (OBJSTORE,), custom, T0 + 2 * DAY, identities=IDENTITIES, ladder=ladder
    )
    assert [d.rule for d in evaluation.decisions] == [
        "Fast S0: escalate after 2 hours",
        "Fast S0: escalate after 2 hours",
    ]


def test_thresholds_must_grow():
    with pytest.raises(ValueError, match="thresholds must grow"):
        StagePolicy("S0 policy", 7 * DAY, 7 * DAY, 30 * DAY)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (DAY, "1 day"),
        (7 * DAY, "7 days"),
        (36 * HOUR, "36 hours"),
        (timedelta(minutes=45), "45 minutes"),
        (DAY + timedelta(minutes=30), "24.5 hours"),
        (timedelta(days=2, hours=12), "60 hours"),
        (timedelta(days=2, minutes=1), "2.0 days"),
    ],
)
def test_durations_read_like_a_person_wrote_them(value: timedelta, text: str):
    assert format_duration(value) == text
