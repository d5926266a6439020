"""GitHub issues, pull requests, comments and reviews as the mail GitHub mirrors to a list.

A comment read from GitHub (webhook or REST API) and the same comment mirrored to
dev@ must be one post. So each item is written as the notification mail GitHub
would send for it, with the same Message-ID, and goes through the same parser as
the mirror: ``<owner/repo/issues/17179@github.com>`` for an issue (``pull`` for a
pull request), ``<owner/repo/pull/95/c1526159497@github.com>`` for a conversation
comment, ``<owner/repo/pull/95/review/2001@github.com>`` for a review. Whichever
copy arrives first is kept; the store knows the other for the same mail (see
``Store.copies_from``). Review comments on lines of a diff are keyed
``<owner/repo/pull/95/r1234@github.com>`` (after their ``#discussion_r1234``
anchor): GitHub mirrors them inside the review's mail, which has its own key.

Pure: JSON in, bytes out.
"""

from __future__ import annotations

import email.header
import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

JsonObject = Mapping[str, Any]

# The webhook events Quorum reads; others are acknowledged and ignored.
EVENTS = frozenset(
    {
        "issue_comment",
        "issues",
        "pull_request",
        "pull_request_review",
        "pull_request_review_comment",
    }
)
_NUMBER_IN_URL = re.compile(r"/(?:issues|pulls?)/(?P<number>\d+)(?:$|[/#?])")
# A review's verdict, in the line GitHub's own mail opens the review with.
_REVIEW_VERDICTS = {"approved": "approved", "changes_requested": "requested changes on"}


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook delivery whose signature checked out, as stored before the 200."""

    delivery_id: str
    event: str
    body: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Issue:
    """An issue or pull request: what every mail about it repeats."""

    repo: str
    number: int
    title: str
    is_pull: bool

    @property
    def kind(self) -> str:
        return "pull" if self.is_pull else "issues"

    @property
    def root_id(self) -> str:
        return f"<{self.repo}/{self.kind}/{self.number}@github.com>"

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/{self.kind}/{self.number}"

    @property
    def subject(self) -> str:
        label = "PR" if self.is_pull else "Issue"
        return f"[{self.repo}] {_one_line(self.title)} ({label} #{self.number})"


@dataclass(frozen=True, slots=True)
class Item:
    """One thing said on GitHub, ready to be written as its mirror mail."""

    issue: Issue
    message_id: str
    login: str
    created_at: datetime
    body: str
    url: str
    # The latest edit GitHub reports; polls resume from it.
    updated_at: datetime

    @property
    def is_root(self) -> bool:
        return self.message_id == self.issue.root_id


# The line a review that approves opens with, in GitHub's mail and in ours (review_item):
# "@jdoe approved this pull request." ("approved these changes" on the page).
_APPROVAL = re.compile(
    r"\A\s*@(?P<login>[\w-]+) approved (?:this pull request|these changes)\.", re.IGNORECASE
)


def approves_pull_request(text: str, author: str) -> bool:
    """Whether ``text`` is a review by ``author`` (a GitHub login) approving the pull
    request; the same line written by anyone else approves nothing."""
    approval = _APPROVAL.match(text)
    return approval is not None and approval["login"].casefold() == author.casefold()


def issue_of(repo: str, data: JsonObject) -> Issue:
    """An issue or pull request from its JSON (either listing; pulls carry ``pull_request``)."""
    is_pull = "pull_request" in data or "/pull/" in str(data.get("html_url", ""))
    if "head" in data and "base" in data:  # a pull request's own JSON
        is_pull = True
    return Issue(repo, int(data["number"]), str(data.get("title") or ""), is_pull)


def root_item(issue: Issue, data: JsonObject) -> Item:
    """The opening post of an issue or pull request."""
    return _item(issue, issue.root_id, data, str(data.get("body") or ""), issue.url)


def comment_item(issue: Issue, data: JsonObject) -> Item:
    """A conversation comment (``issue_comment``; on pull requests too)."""
    key = f"<{issue.repo}/{issue.kind}/{issue.number}/c{int(data['id'])}@github.com>"
    url = f"{issue.url}#issuecomment-{data['id']}"
    return _item(issue, key, data, str(data.get("body") or ""), url)


def _item(issue: Issue, key: str, data: JsonObject, body: str, url: str) -> Item:
    created = _time(data.get("created_at"))
    return Item(
        issue=issue,
        message_id=key,
        login=_login(data),
        created_at=created,
        body=body,
        url=str(data.get("html_url") or url),
        updated_at=_time(data.get("updated_at")) if data.get("updated_at") else created,
    )


def review_item(issue: Issue, data: JsonObject) -> Item | None:
    """A submitted review; None for an empty "commented" review (its line comments count)."""
    state = str(data.get("state") or "").lower()
    body = str(data.get("body") or "")
    verdict = _REVIEW_VERDICTS.get(state)
    if verdict is not None:
        # Opened as GitHub's own mirror mail opens it: the review's verdict is read from
        # that line (bot.core.concerns, bot.core.votes), whichever way the review arrived.
        line = f"@{_login(data)} {verdict} this pull request."
        body = f"{line}\n\n{body}" if body.strip() else line
    if not body.strip() or state == "pending":
        return None
    submitted = _time(data.get("submitted_at"))
    return Item(
        issue=issue,
        message_id=f"<{issue.repo}/pull/{issue.number}/review/{int(data['id'])}@github.com>",
        login=_login(data),
        created_at=submitted,
        body=body,
        url=str(data.get("html_url") or f"{issue.url}#pullrequestreview-{data['id']}"),
        updated_at=submitted,
    )


def review_comment_item(issue: Issue, data: JsonObject) -> Item:
    """A comment on a line of a pull request's diff, quoted with its file and line."""
    where = str(data.get("path") or "")
    line = data.get("line") or data.get("original_line")
    intro = f"In {where}{f':{line}' if line else ''}:\n\n" if where else ""
    key = f"<{issue.repo}/pull/{issue.number}/r{int(data['id'])}@github.com>"
    url = f"{issue.url}#discussion_r{data['id']}"
    return _item(issue, key, data, intro + str(data.get("body") or ""), url)


def number_from_url(url: str) -> int | None:
    """The issue or pull request number in an API URL (``issue_url``, ``pull_request_url``)."""
    match = _NUMBER_IN_URL.search(url or "")
    return int(match["number"]) if match else None


def items_from_event(event: str, payload: JsonObject) -> list[Item]:
    """What a webhook delivery says: the issue or pull request, and the comment or review."""
    repo = str((payload.get("repository") or {}).get("full_name") or "")
    action = str(payload.get("action") or "")
    if not repo or event not in EVENTS:
        return []
    if event in ("issues", "issue_comment"):
        issue = issue_of(repo, payload["issue"])
        items = [root_item(issue, payload["issue"])]
        if event == "issue_comment" and action == "created":
            items.append(comment_item(issue, payload["comment"]))
        return items
    pull = payload["pull_request"]
    issue = issue_of(repo, {**pull, "pull_request": {}})
    items = [root_item(issue, pull)]
    if event == "pull_request_review" and action == "submitted":
        review = review_item(issue, payload["review"])
        items += [review] if review is not None else []
    if event == "pull_request_review_comment" and action == "created":
        items.append(review_comment_item(issue, payload["comment"]))
    return items


def mirror_mail(item: Item) -> bytes:
    """The item as GitHub's notification mail to a mirrored list, byte for byte our own."""
    issue = item.issue
    subject = issue.subject if item.is_root else f"Re: {issue.subject}"
    headers = [
        ("From", email.utils.formataddr((item.login, "notifications@github.com"))),
        ("To", f"{issue.repo} <{issue.repo.split('/')[-1]}@noreply.github.com>"),
        ("Subject", subject),
        ("Date", email.utils.format_datetime(item.created_at.astimezone(UTC))),
        ("Message-ID", item.message_id),
    ]
    if not item.is_root:
        headers += [("In-Reply-To", issue.root_id), ("References", issue.root_id)]
    headers += [
        ("List-ID", f"{issue.repo} <{issue.repo.replace('/', '.')}.github.com>"),
        ("X-GitHub-Sender", item.login),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    lines = [f"{name}: {_header_value(value)}" for name, value in headers]
    body = item.body.replace("\r\n", "\n").rstrip("\n")
    footer = f"-- \nReply to this email directly or view it on GitHub:\n{item.url}\n"
    text = "\n".join(lines) + "\n\n" + body + "\n" + footer
    return text.encode("utf-8")


def _header_value(value: str) -> str:
    value = _one_line(value)
    if value.isascii():
        return value
    return email.header.Header(value, "utf-8").encode()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _login(data: JsonObject) -> str:
    user = data.get("user") or {}
    return str(user.get("login") or "ghost")


def _time(value: object) -> datetime:
    if not isinstance(value, str) or not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
