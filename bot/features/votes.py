"""Votes: build a report for every [VOTE] thread from the store and the config.

The counting itself is pure (``bot.core.votes``); this module only gathers the
thread, its RESULT or CANCEL mail, the roster and the policy for that kind of vote.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from bot.config import LAZY_VOTE_KIND, Config, VoteKindConfig
from bot.core.links import PostRef, message_id_of_key, reference
from bot.core.people import People
from bot.core.votes import (
    Ballot,
    MajorityBasis,
    Roster,
    Rule,
    VotePolicy,
    VoteReport,
    VoteState,
    report_vote,
)
from bot.features.concerns import find_thread
from bot.features.links import archive_of
from bot.features.roster import people_for, roster_for
from bot.model import Action, Post, Thread, ThreadKind
from bot.render import render
from bot.store import Store, to_text
from bot.store import views as stored_views

logger = logging.getLogger(__name__)

# Past this, an unannounced vote is old news: importing an archive must not nag about it.
RESULT_DUE_WINDOW = timedelta(days=7)


def _matched_kind(config: Config, subject: str) -> str | None:
    """The first configured kind whose match words appear in the subject."""
    lowered = subject.casefold()
    for name, kind in config.votes.kinds.items():
        if any(_names(word.casefold(), lowered) for word in kind.match):
            return name
    return None


# What may follow a match word in a subject: its inflections ("commit" in "commits",
# "committer", "committed"; the stem "deprecat" in "deprecate", "deprecation"), never
# another word that starts alike ("commit" is not in "steering committee").
_INFLECTION = r"(?:s|es|e|d|ed|ing|er|ers|ter|ters|ted|ting|ment|ments|ion|ions|ation|ations)?"


def _names(word: str, subject: str) -> bool:
    """Whether ``subject`` holds ``word`` as a word of its own or inflected."""
    stem = word[:-1] if word.endswith("e") else word  # "merge" in "merging"
    pattern = rf"(?<!\w)(?:{re.escape(word)}|{re.escape(stem)}){_INFLECTION}\d*(?!\w)"
    return re.search(pattern, subject) is not None


# A call that says it is lazy ("[LAZY VOTE]", "[LAZY CONSENSUS]") states its own rule:
# it passes unless someone objects. A configured kind that matches it decides instead.
_LAZY_CALL = re.compile(r"\[[^\]]*\blazy\b[^\]]*\]", re.IGNORECASE)


def policy_for(config: Config, subject: str) -> VotePolicy:
    matched = _matched_kind(config, subject)
    if matched is None and _LAZY_CALL.search(subject):
        kind: VoteKindConfig = LAZY_VOTE_KIND
    else:
        kind = config.votes.kinds[matched or config.votes.default_kind]
    return VotePolicy(
        rule=Rule(kind.rule),
        min_binding_plus=kind.min_binding_plus,
        majority_basis=MajorityBasis(config.votes.majority_basis),
        min_duration=timedelta(hours=kind.min_duration_hours),
        count_ambiguous_as_plus_one=config.votes.count_ambiguous_as_plus_one,
    )


def vote_reports(store: Store, config: Config, now: datetime) -> list[VoteReport]:
    """A report for every vote thread, oldest first."""
    roster, identities = roster_for(store, config), people_for(store, config)
    subjects = {t.key: t for t in store.threads()}
    reports = []
    for thread in (t for t in subjects.values() if t.kind == ThreadKind.VOTE):
        reports.append(_report(store, config, thread, subjects, now, roster, identities))
    return reports


def find_vote(store: Store, selector: str) -> Thread:
    """A vote thread by its key, or by a unique piece of its subject."""
    return find_thread(store, selector, ThreadKind.VOTE, noun="vote thread")


def vote_report(store: Store, config: Config, selector: str, now: datetime) -> VoteReport:
    thread = find_vote(store, selector)
    return _report(
        store, config, thread, None, now, roster_for(store, config), people_for(store, config)
    )


def _report(
    store: Store,
    config: Config,
    thread: Thread,
    threads: dict[str, Thread] | None,
    now: datetime,
    roster: Roster | None,
    identities: People,
) -> VoteReport:
    """The report of one vote; ``threads`` (every thread by key) spares lookups when
    many votes are reported at once, and is read from the store when None."""
    posts = store.posts_in_thread(thread.key)
    call = _call(posts, thread.key)
    replies = [post for post in posts if post.key != call.key]
    closers = threads if threads is not None else _closers(store, thread)
    result = _first_post_of(store, closers, thread.closed_by, ThreadKind.RESULT)
    cancel = _first_post_of(store, closers, thread.closed_by, ThreadKind.CANCEL)
    return report_vote(
        call,
        replies,
        now=now,
        policy=policy_for(config, thread.subject),
        roster=roster,
        identities=identities,
        result=result,
        cancel=cancel,
    )


def _closers(store: Store, thread: Thread) -> dict[str, Thread]:
    found = {key: store.thread(key) for key in thread.closed_by}
    return {key: value for key, value in found.items() if value is not None}


def report_of(
    store: Store,
    config: Config,
    thread: Thread,
    now: datetime,
    roster: Roster | None,
    identities: People,
) -> VoteReport:
    """One vote's report, reading only its own thread and the threads that close it."""
    return _report(store, config, thread, None, now, roster, identities)


def _call(posts: list[Post], thread_key: str) -> Post:
    """The post that opened the vote: the thread root, or the earliest post we hold."""
    for post in posts:
        if post.key == thread_key:
            return post
    return posts[0]


def _first_post_of(
    store: Store, threads: dict[str, Thread], keys: tuple[str, ...], kind: ThreadKind
) -> Post | None:
    for key in keys:
        closer = threads.get(key)
        if closer is not None and closer.kind == kind:
            posts = store.posts_in_thread(key)
            if posts:
                return _call(posts, key)
    return None


def draft_result(report: VoteReport, config: Config) -> str:
    """A [RESULT] mail in the style ASF release managers write, for a person to check and send."""
    counted = [b for b in report.ballots if b.bucket is not None]
    lines = [
        _result_line(label, [b for b in counted if b.bucket == bucket], report.binding_unknown)
        for label, bucket in (("+1", 1), ("0", 0), ("-1", -1))
    ]
    binding_plus = report.tally.binding_plus or 0
    return render(
        "email/vote_result.txt.j2",
        report=report,
        policy=report.policy,
        lines=lines,
        quorum_reached=binding_plus >= report.policy.min_binding_plus,
        ambiguous=[b for b in report.ballots if b.ambiguous],
        ambiguous_counted=report.policy.count_ambiguous_as_plus_one,
        thread_link=thread_link(config, report.thread),
        bot_name=config.bot.name,
        project=config.project.name,
    )


def _result_line(label: str, ballots: list[Ballot], binding_unknown: bool) -> dict[str, object]:
    return {
        "label": label,
        "count": len(ballots),
        "binding": None if binding_unknown else sum(1 for b in ballots if b.binding),
        "names": [f"{b.voter}*" if b.binding else b.voter for b in ballots],
    }


def thread_link(config: Config, message_id: str) -> str:
    """The vote thread's archive link, else its Message-ID (bot.core.links decides)."""
    return reference(PostRef(message_id=message_id_of_key(message_id)), archive_of(config))


def result_due_actions(store: Store, config: Config, now: datetime) -> list[Action]:
    """A vote whose period ended without a RESULT gets one reply: the tally and a draft.

    Only the votes whose period ended within the window are read (a range of the stored
    vote views' ``closes_at``), and each is counted again from its thread, so a RESULT
    that came after its view was stored still counts: the tick costs the votes that
    closed lately, not every vote a recent post touched.
    """
    actions = []
    roster, people = roster_for(store, config), people_for(store, config)
    start = to_text(now - RESULT_DUE_WINDOW)
    for key in stored_views.votes_ending_between(store, start, to_text(now)):
        thread = store.thread(key)
        if thread is None or thread.kind != ThreadKind.VOTE or thread.messages == 0:
            continue
        report = report_of(store, config, thread, now, roster, people)
        if report.state is VoteState.OPEN or report.announced is not None:
            continue
        if report.state is VoteState.CANCELLED or now - report.closes_at > RESULT_DUE_WINDOW:
            continue
        actions.append(
            Action(
                kind="result-due",
                target=report.thread,
                text=_result_due_text(report, config),
                key=f"result-due::{report.thread}",
                reason=f"the vote period ended {report.closes_at.isoformat()} without a RESULT",
            )
        )
    return actions


def _result_due_text(report: VoteReport, config: Config) -> str:
    return (
        f"The voting period ended on {report.closes_at:%Y-%m-%d %H:%M} UTC and no [RESULT]"
        " has been sent yet. Here is the tally as a draft; please check it and send it.\n\n"
        + draft_result(report, config)
    )
