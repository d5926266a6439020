"""Named predicates on a post: who wrote it (a person, a tool, the bot) and may we answer it.

Loop safety lives here (DESIGN.md, "Loop safety"): the bot never answers mail
that is ``Auto-Submitted`` (other than ``no``), carries our ``X-Loop``, is a
bounce, is a GitHub notification, or that a tool wrote. :func:`may_answer` is
the one gate every reply goes through; :func:`refusal_reason` says which rule
closed it, for the log.

Two things these predicates deliberately do *not* treat as automatic:

* ``Precedence: bulk`` and ``Precedence: list``. ezmlm, which runs every ASF
  list, stamps ``Precedence: bulk`` on *all* list mail (785 of 785 messages in
  the corpus archives), so honouring it would silence the bot on its own list.
  Only ``Precedence: auto_reply`` (an explicit autoresponder mark) counts.
* An empty ``Return-Path``. Archive exports (Pony Mail) write ``Return-Path:``
  with no value on ordinary list mail; only the null path ``<>`` is a notice.

GitHub relays (mail from GitHub itself, or ASF GitBox's ``[GitHub] login
commented ...``) carry a person's words, so they are GitHub notifications but
not machine-generated: they may discharge an obligation, they are never
answered. Commit mails, issue-tracker events and CI notices are machine-generated.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.core.mail import GITBOX_RELAYS, HEADER_RELAYED_BY
from bot.core.threads import parse_subject
from bot.model import Post

_NULL_PATH = re.compile(r"^<\s*>$")
_DAEMON_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})
_DAEMON_NAMES = re.compile(r"^mail delivery (system|subsystem)$", re.IGNORECASE)
_DELIVERY_REPORT = re.compile(
    r"^\s*multipart/report\s*;.*report-type\s*=\s*\"?delivery-status", re.IGNORECASE
)
# What MTAs put in the subject of a non-delivery report (Postfix, Exim, Sendmail,
# qmail/ezmlm, Exchange, Gmail), anchored at the start so a person's "Re: ..." never matches.
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undelivered mail returned to sender|undeliverable\s*:|undeliverable mail|"
    r"delivery status notification \((failure|delay)\)|mail delivery failed|returned mail\s*:|"
    r"failure notice|delivery failure|delivery has failed|mail system error|"
    r"message not delivered|non-?deliverable|warning: could not send message)",
    re.IGNORECASE,
)
# Vacation responders that forget Auto-Submitted still name themselves in the subject:
# as a prefix ("Out of Office: Re: [VOTE] ..."), or as the whole subject ("Out of
# Office", "Vacation", "Out of office until 3 March"). Anchored at the start, so a
# person's "Re: Out of office handling?" or "Vacation policy for RMs" never matches.
_AUTO_REPLY_WORDS = (
    r"automatic reply|auto(matic)?[- ]?reply|auto(matic)?[- ]?response|"
    r"(i am |i'm )?out of (the )?office|away from (the )?office|"
    r"abwesenheitsnotiz|abwesenheit|r[ée]ponse automatique|respuesta autom[áa]tica|"
    r"risposta automatica|(on )?vacation( reply| notice| message)?"
)
_AUTO_REPLY_SUBJECT = re.compile(
    rf"^\s*(({_AUTO_REPLY_WORDS})\s*(:|$|[-–(]|\b(until|till|from|back)\b)|auto\s*:)",
    re.IGNORECASE,
)
# Headers vacation responders set instead of (or besides) Auto-Submitted.
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond")

_GITHUB_ID = re.compile(r"@github\.com>?$", re.IGNORECASE)
_GITHUB_ROOT = re.compile(
    r"^<[\w.-]+/[\w.-]+/(pull|issues|repo-discussions)/\d+@github\.com>$", re.IGNORECASE
)
_GITHUB_SENDERS = frozenset({"notifications@github.com", "noreply@github.com"})
_GITHUB_NOREPLY_DOMAIN = "@users.noreply.github.com"
_GITHUB_TAG = re.compile(r"^\s*\[GitHub\]", re.IGNORECASE)

# Subject cues that only a CI system writes; each names the tool it comes from.
_CI_FAILURE_SUBJECT = re.compile(
    r"\bRun failed\s*:"  # GitHub Actions: "[owner/repo] Run failed: CI - main (abc123)"
    r"|\bBuild failed in Jenkins\b"  # Jenkins Mailer
    r"|^\s*Jenkins build (is |became )?(still )?(failing|unstable|failed|broken)\b"
    r"|^\s*\[JENKINS\].*\bBuild\s*#\s*\d+\s*-\s*(Still\s+)?(Failure|Failing|Unstable)\b"
    r"|\bBUILD FAILURE\b"  # Maven's own summary line, pasted into subjects by CI jobs
    r"|^\s*buildbot failure in\b"  # Buildbot MailNotifier
    r"|^\s*(Broken|Failed|Still Failing|Errored)\s*:\s*\S+/\S+#\d+"  # Travis CI
    r"|\bFailed pipeline for\b",  # GitLab CI
    re.IGNORECASE,
)
_CI_RECOVERY_SUBJECT = re.compile(
    r"^\s*Jenkins build is back to (normal|stable)\b"
    r"|^\s*\[JENKINS\].*\bBuild\s*#\s*\d+\s*-\s*Fixed\b"
    r"|^\s*buildbot success in\b"
    r"|^\s*Fixed\s*:\s*\S+/\S+#\d+"
    r"|\bFixed pipeline for\b",
    re.IGNORECASE,
)
# From a CI sender, plainer words are enough: "Nightly report: 3 tests failed".
_CI_FAILURE_WORDS = re.compile(
    r"\b(fail(s|ed|ure|ures|ing)?|broken|errored|unstable)\b", re.IGNORECASE
)
# Sender cues stay narrow: "Travis", "Jenkins" and "Ci" are also people's names.
_CI_LOCALPART = re.compile(
    r"^(jenkins|buildbot|crossbow|teamcity)([._+-][\w.+-]*)?$"
    r"|^(builds?|ci|ci-builds|bamboo|buildkite|azure-?pipelines)$",
    re.IGNORECASE,
)
_CI_DOMAIN = re.compile(
    r"(^|\.)(travis-ci\.(org|com)|circleci\.com|buildkite\.com|builds\.apache\.org|"
    r"ci-builds\.apache\.org)$",
    re.IGNORECASE,
)
_CI_NAME = re.compile(
    r"^(apache )?jenkins( server| ci)?$|\bbuildbot\b|\bbuild server\b|\bci server\b",
    re.IGNORECASE,
)

_COMMIT_SUBJECT = re.compile(
    r"\bgit commit\s*:"  # ASF git mailer: "[1/2] repo git commit: message"
    r"|^\s*svn commit\s*:\s*r\d+"  # svnmailer: "svn commit: r13887 - /dev/..."
    r"|^\s*[\[(][\w.-]+[\])]\s+(branch|tag|annotated tag)\s+\S+\s+(updated|created|deleted)\b"
    r"|^\s*\[[\w.-]+\]\s+\d+/\d+\s*:",  # GitBox commit series: "[maven] 01/02: ..."
    re.IGNORECASE,
)
_TRACKER_SUBJECT = re.compile(r"^\s*\[jira\]", re.IGNORECASE)
_MACHINE_MAILER = re.compile(r"ASF-Git|svnmailer|git-multimail|gitbox|JIRA", re.IGNORECASE)
_MACHINE_LOCALPARTS = frozenset(
    {"jira", "gitbox", "git-site-role", "noreply", "no-reply", "donotreply", "do-not-reply"}
)


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """How the bot recognises its own mail: its sending addresses and its X-Loop value."""

    addresses: frozenset[str] = frozenset()
    loop_id: str = ""


# --------------------------------------------------------------------------
# Who wrote it
# --------------------------------------------------------------------------


def is_auto_generated(post: Post) -> bool:
    """``Auto-Submitted`` other than ``no`` (read by the parser), or ``Precedence: auto_reply``."""
    precedence = post.headers.get("Precedence", "").strip().casefold()
    return post.auto_submitted or precedence == "auto_reply"


def is_auto_reply(post: Post) -> bool:
    """A vacation or out-of-office responder, marked (``Auto-Submitted``, ``Precedence:
    auto_reply``, ``X-Autoreply``, ``X-Autorespond``) or only named so in its subject."""
    return is_auto_generated(post) or _named_auto_reply(post)


def _named_auto_reply(post: Post) -> bool:
    if _AUTO_REPLY_SUBJECT.match(post.subject):
        return True
    return any(
        post.headers.get(name, "no").strip().casefold() not in ("", "no")
        for name in _AUTO_REPLY_HEADERS
    )


def is_bounce(post: Post) -> bool:
    """A delivery report: null or daemon return path, daemon sender, DSN body, or bounce subject."""
    return_path = post.headers.get("Return-Path", "").strip()
    if _NULL_PATH.match(return_path) or "mailer-daemon" in return_path.casefold():
        return True
    local, _, _ = post.author.address.casefold().partition("@")
    if local in _DAEMON_LOCALPARTS or _DAEMON_NAMES.match(post.author.name.strip()):
        return True
    if _DELIVERY_REPORT.match(post.headers.get("Content-Type", "")):
        return True
    return bool(_BOUNCE_SUBJECT.match(post.subject))


def carries_our_loop(post: Post, loop_id: str) -> bool:
    """Whether ``X-Loop`` names us: mail we sent that came back through the list."""
    if not loop_id:
        return False
    value = post.headers.get("X-Loop", "")
    tokens = {token.strip("<>").casefold() for token in re.split(r"[\s,]+", value) if token}
    return loop_id.strip("<>").casefold() in tokens


def list_id_of(list_address: str) -> str:
    """The List-Id a list writes into the mail it distributes (RFC 2919): Mailman,
    ezmlm and Google Groups all make ``dev@lists.example.org`` ``<dev.lists.example.org>``."""
    return f"<{list_address.strip().casefold().replace('@', '.', 1)}>"


def came_through_list(list_id: str | None, list_address: str) -> bool:
    """Whether a mail with this List-Id (``Post.list_id``) was distributed by the list."""
    return (list_id or "").casefold() == list_id_of(list_address)


def is_own_post(post: Post, bot_addresses: Collection[str]) -> bool:
    """Sent from one of the bot's addresses."""
    address = post.author.address.casefold()
    return bool(address) and address in {a.casefold() for a in bot_addresses}


def is_ours(post: Post, bot: BotIdentity) -> bool:
    """The bot's own words, by sender or by the X-Loop it stamps on everything it sends."""
    return is_own_post(post, bot.addresses) or carries_our_loop(post, bot.loop_id)


def is_github_notification(post: Post) -> bool:
    """Mail GitHub (or ASF GitBox on its behalf) sent about an issue, pull request or run.

    A person's list reply inside a GitHub-mirror thread inherits the mirror's
    thread key and is treated as part of it too: answering into a mirrored
    thread is exactly the kind of loop this rule exists to avoid.
    """
    address = post.author.address.casefold()
    if address in _GITHUB_SENDERS or address.endswith(_GITHUB_NOREPLY_DOMAIN):
        return True
    if "X-GitHub-Reason" in post.headers:
        return True
    if post.message_id and _GITHUB_ID.search(post.message_id):
        return True
    if _GITHUB_ROOT.match(post.thread_key):
        return True
    return address in GITBOX_RELAYS and bool(_GITHUB_TAG.match(post.subject))


def _is_reply_subject(post: Post) -> bool:
    # "Re: Build failed in Jenkins" is a person talking about a failure, not the failure.
    return parse_subject(post.subject).is_reply


def is_ci_sender(post: Post) -> bool:
    """Sent by a build server, by its address or its display name."""
    local, _, domain = post.author.address.casefold().partition("@")
    if _CI_LOCALPART.search(local) or _CI_DOMAIN.search(domain):
        return True
    return bool(_CI_NAME.search(post.author.name))


def is_ci_failure(post: Post) -> bool:
    """A CI system reporting a failed, broken or unstable build (GitHub Actions, Jenkins ...).

    A subject only a CI system writes is enough on its own; plainer words
    ("tests failed") count only from a CI sender, because people write them too.
    """
    if _is_reply_subject(post) or is_ci_recovery(post):
        return False
    if _CI_FAILURE_SUBJECT.search(post.subject):
        return True
    return is_ci_sender(post) and bool(_CI_FAILURE_WORDS.search(post.subject))


def is_ci_recovery(post: Post) -> bool:
    """A CI system reporting that a failing build passes again ("back to normal", "Fixed:")."""
    return not _is_reply_subject(post) and bool(_CI_RECOVERY_SUBJECT.search(post.subject))


# GitHub accounts that are programs: "dependabot[bot]", "rust-rfcbot", "bors", "triagebot",
# and the user accounts some projects' bots comment under ("rust-highfive", "asfgit").
_BOT_LOGIN = re.compile(
    r"\[bot\]$|(?:^|[-_])(?:bot|robot|rfcbot|triagebot|bors|dependabot|renovate|mergify|codecov"
    r"|github-actions|highfive|rust-timer|rust-log-analyzer|rustbot"
    r"|pytorchbot|pytorchmergebot|googlebot|mergebot|coveralls|netlify|vercel|sonarcloud"
    r"|sonarqubecloud|allcontributors|claassistant|cla-assistant|easycla|miss-islington"
    r"|asfgit|asfbot)$",
    re.IGNORECASE,
)


def is_bot_account(post: Post) -> bool:
    """A comment a program wrote on GitHub, mirrored to the list under its login."""
    if not is_github_notification(post):
        return False
    login = post.headers.get("X-GitHub-Sender", "") or post.author.name
    return bool(_BOT_LOGIN.search(login.strip()))


def is_machine_generated(post: Post) -> bool:
    """Written by a tool: commit mails, issue-tracker events, CI notices, no-reply senders.

    GitHub relays are not included: they carry a person's comment (see the module docstring),
    unless the GitHub account itself is a bot.
    """
    if is_ci_failure(post) or is_ci_recovery(post) or is_bot_account(post):
        return True
    if _is_reply_subject(post):
        return False
    if _COMMIT_SUBJECT.search(post.subject) or _TRACKER_SUBJECT.match(post.subject):
        return True
    if _MACHINE_MAILER.search(post.headers.get("X-Mailer", "")):
        return True
    local, _, _ = post.author.address.casefold().partition("@")
    return local in _MACHINE_LOCALPARTS and not is_github_notification(post)


def is_automated(post: Post) -> bool:
    """Not a person speaking: auto-submitted, an auto-reply, a bounce or machine-generated.

    A person's post that a forum or list relays from its own address ("Bob via Example
    Forum"), or GitHub or GitBox mails on their behalf, is a person speaking, though the
    relay marks its mail ``Auto-Submitted`` (a forum's mailing-list mode does): that mark
    keeps the bot from answering it (:func:`refusal_reason`), not from reading it.
    """
    if is_bounce(post) or is_machine_generated(post):
        return True
    if is_relayed(post) or is_github_notification(post):
        return _named_auto_reply(post)
    return is_auto_reply(post)


def is_relayed(post: Post) -> bool:
    """Mail a list or forum sent from its own address on a person's behalf (bot.core.mail)."""
    return HEADER_RELAYED_BY in post.headers


# --------------------------------------------------------------------------
# May we answer it
# --------------------------------------------------------------------------


def refusal_reason(post: Post, bot: BotIdentity) -> str | None:
    """Which loop-safety rule forbids answering ``post``, or None when the bot may answer."""
    checks = (
        (is_ours(post, bot), "it is the bot's own mail"),
        (is_auto_generated(post), "it is Auto-Submitted"),
        (is_auto_reply(post), "it is an automatic reply"),
        (is_bounce(post), "it is a bounce"),
        (is_github_notification(post), "it is a GitHub notification"),
        (is_machine_generated(post), "a tool wrote it"),
    )
    return next((reason for failed, reason in checks if failed), None)


def may_answer(post: Post, bot: BotIdentity) -> bool:
    """Whether the bot may reply to ``post`` at all (loop safety; not whether it should)."""
    return refusal_reason(post, bot) is None
