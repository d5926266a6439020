"""Which thread a post belongs to, what kind of thread it is, and which vote a result closes.

Threading trusts References/In-Reply-To first, then GitHub roots, and only
then the normalised subject: list servers rewrite subjects and some clients
drop References, so neither alone is enough.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from bot.model import Post, ThreadKind

_REPLY_PREFIX = re.compile(r"^\s*(re|aw|fwd?|wg|sv|antw|vs|odp|r)\s*(\[\d+\])?\s*:\s*", re.I)
_TAG = re.compile(r"^\s*\[([^\]]{1,60})\]\s*")
_TAG_KINDS: dict[str, ThreadKind] = {
    "rfc": ThreadKind.RFC,
    "process rfc": ThreadKind.RFC,
    "pre-rfc": ThreadKind.PRE_RFC,
    "pre rfc": ThreadKind.PRE_RFC,
    "discuss": ThreadKind.DISCUSS,
    "discussion": ThreadKind.DISCUSS,
    "vote": ThreadKind.VOTE,
    "result": ThreadKind.RESULT,
    "results": ThreadKind.RESULT,
    "cancel": ThreadKind.CANCEL,
    "canceled": ThreadKind.CANCEL,
    "cancelled": ThreadKind.CANCEL,
}
# A result closes a vote, a cancel withdraws one: the closing tag decides the kind.
_KIND_PRIORITY = (
    ThreadKind.RESULT,
    ThreadKind.CANCEL,
    ThreadKind.VOTE,
    ThreadKind.RFC,
    ThreadKind.PRE_RFC,
    ThreadKind.DISCUSS,
)
CLOSING_KINDS = frozenset({ThreadKind.RESULT, ThreadKind.CANCEL})
_RESPIN = re.compile(
    r"\(?\s*(take|attempt|try|round)\s*#?\s*(\d+)\s*\)?|\b(rc|cr)\s*-?\s*(\d+)\b|"
    r"\(?\s*(\d+)(st|nd|rd|th)\s+(attempt|try|round)\s*\)?",
    re.I,
)
_NOISE = frozenset({"apache", "version", "release", "the", "of", "for", "a", "an", "v"})
# A GitHub mirror's subject ends in the issue's or pull request's own number.
_GITHUB_ISSUE_SUFFIX = re.compile(
    r"\s*\((?:issue|pr|pull request|discussion)?\s*#\d+\)\s*$", re.IGNORECASE
)
_GLUED_RC = re.compile(r"(?P<version>.*\d)[.-]?(?:rc|cr)(?P<rc>\d+)")
SUBJECT_WINDOW = timedelta(days=45)
RESULT_WINDOW = timedelta(days=60)


@dataclass(frozen=True, slots=True)
class SubjectParts:
    """A subject taken apart: its kind tags, whether it is a reply, and the topic left over."""

    kinds: frozenset[ThreadKind]
    is_reply: bool
    topic: str

    @property
    def kind(self) -> ThreadKind:
        for kind in _KIND_PRIORITY:
            if kind in self.kinds:
                return kind
        return ThreadKind.OTHER


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """What threading needs to know about a thread that already exists."""

    key: str
    kind: ThreadKind
    subject: str
    first_at: datetime
    last_at: datetime


# Subjects repeat down a thread, and threading, RFC titles and the store all ask.
@lru_cache(maxsize=4096)
def parse_subject(subject: str) -> SubjectParts:
    """Strip reply prefixes and bracket tags in any order; keep the kinds they name."""
    rest = _fold(subject)
    kinds: set[ThreadKind] = set()
    is_reply = False
    while True:
        prefix = _REPLY_PREFIX.match(rest)
        if prefix:
            is_reply = True
            rest = rest[prefix.end() :]
            continue
        tag = _TAG.match(rest)
        if tag:
            kind = _TAG_KINDS.get(_fold(tag.group(1)).lower())
            if kind is not None:
                kinds.add(kind)
            rest = rest[tag.end() :]
            continue
        break
    return SubjectParts(kinds=frozenset(kinds), is_reply=is_reply, topic=rest)


def classify(subject: str) -> ThreadKind:
    return parse_subject(subject).kind


def subject_key(subject: str) -> str:
    """The key replies without References are matched on: kind and topic, case-folded."""
    parts = parse_subject(subject)
    return f"{parts.kind.value}:{parts.topic.casefold()}"


def decide_thread(
    post: Post, parent: ThreadRef | None, same_subject: ThreadRef | None
) -> tuple[str, str | None]:
    """The thread key for ``post`` and, for a result or cancel, the thread it closes.

    ``parent`` is the thread of the nearest referenced message we already hold;
    ``same_subject`` the latest thread with the same subject key.
    """
    parts = parse_subject(post.subject)
    if parent is not None:
        if parts.kind in CLOSING_KINDS and parent.kind not in CLOSING_KINDS:
            # A [RESULT] sent as a reply still opens its own thread, linked to the vote.
            return post.key, parent.key
        return parent.key, None
    if post.thread_key:
        return post.thread_key, None
    looks_like_reply = parts.is_reply or post.in_reply_to is not None or bool(post.references)
    if (
        same_subject is not None
        and looks_like_reply
        and post.created_at - same_subject.last_at <= SUBJECT_WINDOW
    ):
        return same_subject.key, None
    return post.key, None


def find_closed_vote(
    result_subject: str, result_at: datetime, votes: list[ThreadRef]
) -> str | None:
    """The vote a [RESULT]/[CANCEL] thread closes, when no References say so.

    Subjects drift ("Release Maven Indexer 6.0.0" vs "Release Apache Maven Indexer
    version 6.0.0"), so we compare the words that matter; version numbers and
    re-spin markers ("take 2", "rc1") must agree, so re-spins stay separate votes.
    """
    wanted = _topic_signature(parse_subject(result_subject).topic)
    candidates = [
        vote
        for vote in votes
        if vote.kind == ThreadKind.VOTE
        and vote.first_at <= result_at
        and result_at - vote.first_at <= RESULT_WINDOW
        and _signatures_match(wanted, _topic_signature(parse_subject(vote.subject).topic))
    ]
    if not candidates:
        return None
    # Without a re-spin marker a result means the latest attempt.
    return max(candidates, key=lambda vote: vote.first_at).key


def _topic_signature(topic: str) -> tuple[frozenset[str], frozenset[str], str]:
    """(words, versions, re-spin marker) of a topic.

    A GitHub mirror's "(Issue #17196)" is the issue's number, not the topic's, and
    "v0.17.0.rc0" is version 0.17.0, attempt 0: the RESULT often names the release
    ("v0.17.0") where the call named the candidate.
    """
    topic = _GITHUB_ISSUE_SUFFIX.sub("", topic)
    respin_match = _RESPIN.search(topic)
    respin = ""
    if respin_match:
        digits = [g for g in respin_match.groups() if g and g.isdigit()]
        respin = digits[0] if digits else ""
        topic = topic[: respin_match.start()] + " " + topic[respin_match.end() :]
    tokens = [t.strip(".-+") for t in re.findall(r"[\w][\w.+-]*", _strip_accents(topic).casefold())]
    versions: set[str] = set()
    words: set[str] = set()
    for token in filter(None, tokens):
        if not any(c.isdigit() for c in token):
            if token not in _NOISE:
                words.add(token)
            continue
        glued = _GLUED_RC.fullmatch(token)
        if glued:  # "1.0rc1": the marker glued to the version
            token, respin = glued["version"], respin or glued["rc"]
        versions.add(token[1:] if re.match(r"v\d", token) else token)
    return frozenset(words), frozenset(versions), respin


def _signatures_match(
    wanted: tuple[frozenset[str], frozenset[str], str],
    have: tuple[frozenset[str], frozenset[str], str],
) -> bool:
    words_a, versions_a, respin_a = wanted
    words_b, versions_b, respin_b = have
    if versions_a != versions_b:
        return False
    # A vote without a marker is the first attempt; a result without one means the latest.
    if respin_a and (respin_b or "1") != respin_a:
        return False
    if not words_a or not words_b:
        return words_a == words_b
    overlap = len(words_a & words_b) / len(words_a | words_b)
    return overlap >= 0.6 or words_a <= words_b or words_b <= words_a


def _strip_accents(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


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
    r"https?://github\.com/(?P<repo>[\w.-]+/[\w.-]+)/(?:pull|issues)/(?P<number>\d+)", re.I
)
_GITHUB_SHORT = re.compile(
    r"(?<![\w/.#-])(?P<repo>[a-z0-9][\w.-]*/[\w.-]+)#(?P<number>\d+)\b", re.I
)
_GITHUB_ROOT = re.compile(
    r"^<(?P<repo>[\w.-]+/[\w.-]+)/(?:issues|pull)/(?P<number>\d+)@github\.com>$"
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


def post_tokens(post: Post) -> PostTokens:
    """Identity and mention tokens of one stored post (``thread_key`` already decided)."""
    identity: set[str] = set()
    if post.url:
        identity |= _url_tokens(post.url)
    root = _GITHUB_ROOT.match(post.thread_key)
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
    # They are necessary conditions: each pattern's match contains its guard's text.
    # (lower() is only exact for ASCII; other text goes straight to the patterns.)
    lowered = text.lower() if text.isascii() else None
    if _may_contain(lowered, "/t/"):
        tokens |= {_forum_token(m["host"], m["topic"]) for m in _FORUM_TOPIC_URL.finditer(text)}
    if _may_contain(lowered, "github.com/"):
        tokens |= {_github_token(m["repo"], m["number"]) for m in _GITHUB_URL.finditer(text)}
    if "#" in text and _HASH_NUMBER.search(text):
        if "/" in text:
            tokens |= {_github_token(m["repo"], m["number"]) for m in _github_short_refs(text)}
        if _may_contain(lowered, "rfc"):
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


def _may_contain(lowered: str | None, needle: str) -> bool:
    """False only when the lower-cased ASCII text surely lacks ``needle``."""
    return lowered is None or needle in lowered


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
    words = re.findall(r"\w+", _strip_accents(topic).casefold())
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
