"""One RFC across channels: the threads of a forum topic, a dev@ thread and a GitHub PR, joined.

Pure: no I/O. :mod:`bot.store.rfc_links` stores the tokens each post gives and the
groups this module computes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from bot.core.text import caseless
from bot.core.threads import parse_subject, strip_accents
from bot.model import Post, ThreadKind

# -- one RFC across channels ---------------------------------------------------------------
#
# An RFC often starts on the forum, goes on on dev@ and ends in a GitHub pull request
# mirrored to the list: three threads, one RFC. Each post gives *tokens*:
#
# - identity tokens name the thread the post is in: its forum topic (from the post's
#   URL), its GitHub issue or pull request (from the mirror's thread root), "RFC #95"
#   in its subject, and for RFC-tagged subjects the normalised title;
# - mention tokens name other threads: forum topic and GitHub URLs, ``owner/repo#95``
#   and "RFC #95" in the author's new text (never in quoted text), and the Message-IDs
#   Discourse gives the mail it sends about a topic.
#
# Threads sharing an identity token are one RFC (the same title, the same topic); a
# thread mentioning another thread's identity joins it. Union-find over those edges
# gives the groups. A thread that mentions more than MAX_LINKED_THREADS other threads
# is a digest or a roadmap, not part of one RFC, so its mentions are ignored; a group
# is an RFC only if one of its threads is one (RFC-tagged, or an RFC repository's PR).

MAX_LINKED_THREADS = 3
_RFC_KINDS = frozenset({ThreadKind.RFC, ThreadKind.PRE_RFC})
_FORUM_TOPIC_URL = re.compile(
    r"https?://(?P<host>[a-z0-9.-]+(?::\d+)?)/t/(?:[^\s/?#<>]*[^\s/?#<>\d][^\s/?#<>]*/)?"
    r"(?P<topic>\d+)(?!\d)",
    re.I,
)
_GITHUB_URL = re.compile(
    r"https?://github\.com/(?P<repo>[\w.-]+/[\w.-]+)/(?:pull|issues|discussions)/(?P<number>\d+)",
    re.I,
)
_GITHUB_SHORT = re.compile(
    r"(?<![\w/.#-])(?P<repo>[a-z0-9][\w.-]*/[\w.-]+)#(?P<number>\d+)\b", re.I
)
_GITHUB_ROOT = re.compile(
    r"^<(?P<repo>[\w.-]+/[\w.-]+)/(?:issues|pull|repo-discussions)/(?P<number>\d+)@github\.com>$"
)
# "RFC #95" (with the hash: "RFC 2822" is the IETF's, not ours).
_RFC_NUMBER = re.compile(r"\bRFC\s*#\s*(?P<number>\d+)\b", re.I)
# Both "repo#12" and "RFC #12" have a "#" with a number after it (maybe after blanks).
_HASH_NUMBER = re.compile(r"#\s*\d")
# Message-IDs of Discourse's own mail: <topic/12/345.abc@host>, <topic/12@host>.
_DISCOURSE_MESSAGE_ID = re.compile(
    r"^<(?:discourse/)?topic/(?P<topic>\d+)(?:/\d+)?(?:\.\w+)?@(?P<host>[^>\s]+)>$", re.I
)
_GITHUB_SUFFIX = re.compile(r"\s*\(#\d+\)\s*$")
_RFC_PREFIX = re.compile(r"^\s*(?:(?P<pre>pre[- ]?)?rfc)\s*(?:#\s*\d+)?\s*[:\-]\s*", re.I)


@dataclass(frozen=True, slots=True)
class PostTokens:
    """What a post says about the thread it is in, and about other threads."""

    identity: frozenset[str]
    mentions: frozenset[str]


@dataclass(frozen=True, slots=True)
class RfcPart:
    """A thread as RFC joining sees it: the union of its posts' tokens."""

    key: str
    first_at: datetime
    identity: frozenset[str]
    mentions: frozenset[str]

    @property
    def is_rfc(self) -> bool:
        return any(token.startswith(("title:", "rfc:")) for token in self.identity)


# At most this many link mentions per post are stored (bounded work per message).
MAX_LINK_MENTIONS = 200


def post_tokens(post: Post, *, thread_key: str | None = None) -> PostTokens:
    """Identity and mention tokens of one stored post (``thread_key`` already decided).

    ``thread_key``: as if the post were in that thread (``post.thread_key`` if None).
    """
    identity: set[str] = set()
    if post.url:
        identity |= _url_tokens(post.url)
    root = _GITHUB_ROOT.match(post.thread_key if thread_key is None else thread_key)
    if root:
        identity |= _github_tokens(root["repo"], root["number"])
    title = rfc_title(post.subject)
    if title:
        identity.add(f"title:{title}")
    identity |= {f"rfc:{int(m['number'])}" for m in _RFC_NUMBER.finditer(post.subject)}
    mentions = link_tokens(post.text)
    for message_id in (post.message_id, post.in_reply_to, *post.references):
        forum = _DISCOURSE_MESSAGE_ID.match(message_id or "")
        if forum:
            mentions.add(_forum_token(forum["host"], forum["topic"]))
    mentions -= identity
    if len(mentions) > MAX_LINK_MENTIONS:
        # A post that links hundreds of issues joins nothing by it; each is a stored row.
        mentions = set(sorted(mentions)[:MAX_LINK_MENTIONS])
    return PostTokens(frozenset(identity), frozenset(mentions))


def link_tokens(text: str) -> set[str]:
    """Tokens of the forum topics, GitHub issues/PRs and numbered RFCs a text mentions."""
    tokens: set[str] = set()
    # Cheap guards first: an import reads every message, and each pattern below scans
    # a text position by position, case-insensitively, where `in` is one fast pass.
    # They are necessary conditions: each pattern's match contains its guard's text
    # (caseless() says why also for text that is not ASCII).
    lowered = caseless(text)
    if b"/t/" in lowered:
        tokens |= {_forum_token(m["host"], m["topic"]) for m in _FORUM_TOPIC_URL.finditer(text)}
    if b"github.com/" in lowered:
        tokens |= {_github_token(m["repo"], m["number"]) for m in _GITHUB_URL.finditer(text)}
    if "#" in text and _HASH_NUMBER.search(text):
        if "/" in text:
            tokens |= {_github_token(m["repo"], m["number"]) for m in _github_short_refs(text)}
        if b"rfc" in lowered:
            tokens |= {f"rfc:{int(m['number'])}" for m in _RFC_NUMBER.finditer(text)}
    return tokens


def _github_short_refs(text: str) -> Iterator[re.Match[str]]:
    """``_GITHUB_SHORT.finditer(text)``, but only over the lines that have a "#<digit>".

    The pattern tries every word of a text as a repository name; the lines with a
    "#" and a number are few. A match never spans lines, and a line's start or end
    stands where a line break stood for the look-behind and ``\\b``, so it is the same.
    """
    end = 0
    for hash_mark in _HASH_NUMBER.finditer(text):
        if hash_mark.start() < end:
            continue  # on the line just searched
        start = text.rfind("\n", 0, hash_mark.start()) + 1
        end = text.find("\n", hash_mark.start())
        end = len(text) if end < 0 else end
        yield from _GITHUB_SHORT.finditer(text[start:end])


def rfc_title(subject: str) -> str | None:
    """The normalised title of an RFC-tagged subject, or None when it is not an RFC.

    Tags, reply prefixes, a GitHub mirror's "(#95)" and case are dropped, so
    "[RFC] Relay: dynamic shapes" on the forum, "Re: [RFC] Relay - dynamic shapes"
    on dev@ and "[apache/tvm-rfcs] [RFC] Relay: Dynamic Shapes (#95)" agree.
    """
    parts = parse_subject(subject)
    topic = _GITHUB_SUFFIX.sub("", parts.topic)
    is_rfc = bool(parts.kinds & _RFC_KINDS)
    prefix = _RFC_PREFIX.match(topic)
    if prefix:
        is_rfc = True
        topic = topic[prefix.end() :]
    if not is_rfc:
        return None
    words = re.findall(r"\w+", strip_accents(topic).casefold())
    # One word ("[RFC] Logging") is too little to be sure two threads are one RFC.
    return " ".join(words) if len(words) >= 2 else None


def join_rfcs(parts: list[RfcPart]) -> dict[str, str]:
    """Thread key -> RFC id for every thread that is part of a multi-thread RFC.

    The RFC id is the key of the group's earliest RFC thread, so it names where
    the RFC started and stays put as later parts join.
    """
    by_identity: dict[str, list[str]] = {}
    for part in parts:
        for token in part.identity:
            by_identity.setdefault(token, []).append(part.key)
    groups = _UnionFind()
    for keys in by_identity.values():
        for key in keys[1:]:
            groups.union(keys[0], key)
    for part in parts:
        targets = {
            key for token in part.mentions for key in by_identity.get(token, ()) if key != part.key
        }
        if len(targets) <= MAX_LINKED_THREADS:
            for key in targets:
                groups.union(part.key, key)
    return _rfc_ids(parts, groups)


def _rfc_ids(parts: list[RfcPart], groups: _UnionFind) -> dict[str, str]:
    members: dict[str, list[RfcPart]] = {}
    for part in parts:
        members.setdefault(groups.find(part.key), []).append(part)
    joined: dict[str, str] = {}
    for group in members.values():
        rfcs = [part for part in group if part.is_rfc]
        if len(group) < 2 or not rfcs:
            continue
        first = min(rfcs, key=lambda part: (part.first_at, part.key))
        joined.update({part.key: first.key for part in group})
    return joined


class _UnionFind:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        root = key
        while (parent := self._parent.get(root, root)) != root:
            root = parent
        while key != root:  # path compression keeps later finds short
            self._parent[key], key = root, self._parent.get(key, key)
        return root

    def union(self, a: str, b: str) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            # The smaller key wins, so the result does not depend on the order of edges.
            low, high = sorted((root_a, root_b))
            self._parent[high] = low


def _url_tokens(url: str) -> set[str]:
    tokens = {_forum_token(m["host"], m["topic"]) for m in _FORUM_TOPIC_URL.finditer(url)}
    for match in _GITHUB_URL.finditer(url):
        tokens |= _github_tokens(match["repo"], match["number"])
    return tokens


def _github_tokens(repo: str, number: str) -> set[str]:
    tokens = {_github_token(repo, number)}
    # RFC repositories (rust-lang/rfcs, apache/tvm-rfcs) number their RFCs by PR.
    if "rfc" in repo.rpartition("/")[2].casefold():
        tokens.add(f"rfc:{int(number)}")
    return tokens


def _github_token(repo: str, number: str) -> str:
    return f"github:{repo.casefold()}#{int(number)}"


def _forum_token(host: str, topic: str) -> str:
    # Discourse's mail names the host without a port; its URLs may have one.
    name = host.casefold().partition(":")[0].removeprefix("www.")
    return f"forum:{name}:{int(topic)}"


# -- the vote a RESULT names in its body -------------------------------------------------

# A Message-ID written out, or inside a list-archive URL (mod_mbox, Pony Mail and most
# archives put it in the path, URL-encoded: %3Cid%40host%3E).
_WRITTEN_MESSAGE_ID = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>")
_ENCODED_MESSAGE_ID = re.compile(r"%3C([^\s/%]+(?:%40|@)[^\s/?#%]+)%3E", re.IGNORECASE)
_SAME_REPO_NUMBER = re.compile(r"(?<![\w/&#])#(?P<number>\d+)\b")


def closing_links(text: str, thread_key: str) -> tuple[str, ...]:
    """What a RESULT's own text links to, in order: GitHub issue and pull request tokens
    (URLs, ``owner/repo#N``, and ``#N`` when the RESULT is itself in that repository)
    and Message-IDs (written out, or in a list-archive URL).

    The caller keeps the first that is a vote thread: a RESULT also links release
    notes, schedules and candidates.
    """
    found: list[tuple[int, str]] = []
    for match in _GITHUB_URL.finditer(text):
        found.append((match.start(), _github_token(match["repo"], match["number"])))
    for match in _github_short_refs(text) if "#" in text else ():
        found.append((match.start(), _github_token(match["repo"], match["number"])))
    root = _GITHUB_ROOT.match(thread_key)
    if root:
        own = int(root["number"])
        found += [
            (m.start(), _github_token(root["repo"], m["number"]))
            for m in _SAME_REPO_NUMBER.finditer(text)
            if int(m["number"]) != own
        ]
    found += [(m.start(), f"<{m[1]}>") for m in _WRITTEN_MESSAGE_ID.finditer(text)]
    for match in _ENCODED_MESSAGE_ID.finditer(text):
        found.append((match.start(), "<" + match[1].replace("%40", "@").replace("%2B", "+") + ">"))
    return tuple(dict.fromkeys(token for _, token in sorted(found)))
