"""Concerns: finding them in prose, and keeping a ledger of them over a thread.

Two sources feed the ledger. Explicit commands (``@quorum concern NAME: text``)
are exact. Prose is read by cues: first-person worry and objection phrases
("I am concerned that", "my concern", "I worry", "not a fan", "-1 because"),
pointed questions put to whoever made the proposal ("Who is going to do
this?", "What's the objective?"), and the items of a list introduced by
"I would summarize my concerns:". Detection is deliberately lexical and
deterministic: the same thread always yields the same ledger, and every
detected concern carries the sentences that triggered it so a person can
check it in one glance.

A detected concern is one *point*, not one post: cue sentences that follow
each other on the same line of the same paragraph are one point; a list item
is one point; the same point made again by the same person later is recorded
as a repeat of the first, not as a new concern.

The ledger then follows each concern through the thread: *answered* when
someone else replies to a post that raised it, quotes it, or addresses its
author; *resolved* when its author accepts an answer ("fair enough", "that
addresses my concern", a later +1) or an authorised ``resolve`` arrives;
*withdrawn* only by its author's ``withdraw`` command.

Pure: no I/O, no clock. ``now`` is passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any

from bot.core.commands import (
    DEFAULT_HANDLE,
    Command,
    CommandError,
    ResolvePolicy,
    Verb,
    authorize,
    error_reply,
    help_reply,
    parse_commands,
    parse_foreign_commands,
    refusal_reply,
)
from bot.core.concern_cues import (
    CHAIR_HAT,
    CUES,
    MARKED_ASIDE,
    MY_WORRY_NOUNS,
    NIT,
    OBJECTION_FORMS,
    OPENS_PLUS_ONE,
    WITH_A_BUT,
    WORRY_GOES_AWAY,
    PostContext,
    adds_another_point,
    asks_yes_or_no,
    cues_of,
    features_of,
    heads_a_question,
    introduces_concerns_at,
    post_features,
    says_it_only_asks,
    turns_elsewhere,
)
from bot.core.concern_model import DEFAULT_MODEL, ConcernModel
from bot.core.discourse import HEADER_POST_NUMBER, HEADER_REPLY_TO
from bot.core.github import approves_pull_request
from bot.core.people import People, is_same_person, mirror_login, without_shared_senders
from bot.core.prose import Unit, units_of
from bot.core.prose import probe as _probe
from bot.core.rules import is_automated
from bot.core.text import prose
from bot.core.threads import PROPOSAL_SERIES, parse_subject
from bot.model import Action, Person, Post, Source, ThreadKind

TITLE_WORDS = 8


class ConcernState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


class ConcernSource(StrEnum):
    COMMAND = "command"
    DETECTED = "detected"
    # Proposed by the optional language model (bot.core.concern_extraction), its quote
    # found word for word in the post.
    EXTRACTED = "extracted"


UNSETTLED = frozenset({ConcernState.OPEN, ConcernState.ANSWERED})


# --------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One point raised in one post, before the ledger decides if it is new."""

    post: str
    sentences: tuple[str, ...]
    title: str
    cue: str
    source: ConcernSource = ConcernSource.DETECTED
    # The sentences that state the point, when ``sentences`` shows more of its paragraph:
    # what a restatement or a rebuttal is compared with.
    stated: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    @property
    def said(self) -> str:
        return " ".join(self.stated or self.sentences)


@dataclass(frozen=True, slots=True)
class Proposed:
    """A concern the optional language model proposed for a post, already checked: its
    quote lies word for word in the post's own prose (bot.core.concern_extraction.verify).
    ``sentences`` are the post's sentences the quote lies in."""

    title: str
    sentences: tuple[str, ...]


# The cue a proposed concern carries: what `quorum concerns` shows as why it was found.
EXTRACTED_CUE = "extractor"


@dataclass(frozen=True, slots=True)
class PostRef:
    """A link to a post: which, by whom, when."""

    post: str
    author: str
    at: datetime

    @classmethod
    def of(cls, post: Post) -> PostRef:
        return cls(post.key, post.author.display, post.created_at)

    def to_dict(self) -> dict[str, Any]:
        return {"post": self.post, "author": self.author, "at": self.at.isoformat()}


@dataclass(frozen=True, slots=True)
class Concern:
    thread: str
    id: str
    title: str
    text: str
    raised_by: Person
    raised_at: datetime
    post: str
    source: ConcernSource
    state: ConcernState = ConcernState.OPEN
    sentences: tuple[str, ...] = ()
    cue: str = ""
    message_id: str | None = None
    url: str | None = None
    answered_by: tuple[PostRef, ...] = ()
    resolved_by: PostRef | None = None
    withdrawn_by: PostRef | None = None
    repeated_in: tuple[str, ...] = ()
    # How it was settled: "accepted" by who raised it, "adopted" by the proposer,
    # "conceded" by the one whose idea it objected to, or "command" (an authorised
    # resolve).
    resolution: str = ""

    @property
    def answered(self) -> bool:
        return bool(self.answered_by)

    @property
    def settled(self) -> bool:
        return self.state not in UNSETTLED

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread": self.thread,
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "sentences": list(self.sentences),
            "raised_by": self.raised_by.display,
            "raised_by_address": self.raised_by.address,
            "raised_at": self.raised_at.isoformat(),
            "post": self.post,
            "message_id": self.message_id,
            "url": self.url,
            "source": self.source.value,
            "cue": self.cue,
            "state": self.state.value,
            "answered_by": [ref.to_dict() for ref in self.answered_by],
            "resolved_by": self.resolved_by.to_dict() if self.resolved_by else None,
            "withdrawn_by": self.withdrawn_by.to_dict() if self.withdrawn_by else None,
            "resolution": self.resolution or None,
            "repeated_in": list(self.repeated_in),
        }


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    """``maintainers`` are roster entries: addresses (with ``@``) or names/logins."""

    handle: str = DEFAULT_HANDLE
    maintainers: frozenset[str] = frozenset()
    bot_addresses: frozenset[str] = frozenset()
    resolvers: ResolvePolicy = ResolvePolicy.AUTHOR_OR_MAINTAINER
    model: ConcernModel = DEFAULT_MODEL
    # The directory that decides who sent a command (bot.core.people); None: compare
    # the Person values as they are.
    people: People | None = None


@dataclass(frozen=True, slots=True)
class Ledger:
    """Every concern of one thread as of ``now``, with the replies the bot owes."""

    thread: str
    now: datetime
    concerns: tuple[Concern, ...] = ()
    actions: tuple[Action, ...] = ()
    commands: tuple[Command, ...] = ()
    errors: tuple[CommandError, ...] = ()

    def get(self, concern_id: str) -> Concern | None:
        return next((c for c in self.concerns if c.id == concern_id), None)

    def unsettled(self) -> tuple[Concern, ...]:
        """Open or answered: still waiting for the person who raised them."""
        return tuple(c for c in self.concerns if c.state in UNSETTLED)

    def in_state(self, *states: ConcernState) -> tuple[Concern, ...]:
        return tuple(c for c in self.concerns if c.state in states)

    def to_dict(self) -> dict[str, Any]:
        return {
            "thread": self.thread,
            "now": self.now.isoformat(),
            "concerns": [c.to_dict() for c in self.concerns],
            "actions": [a.to_dict() for a in self.actions],
            "commands": [c.to_dict() for c in self.commands],
            "errors": [e.to_dict() for e in self.errors],
        }


# --------------------------------------------------------------------------
# Who proposed, and what each post is
# --------------------------------------------------------------------------

_GITHUB_ISSUE_ROOT = re.compile(
    r"^<(?P<owner>[\w.-]+)/(?P<repo>[\w.-]+)/issues/\d+@github\.com>$", re.IGNORECASE
)
_PROPOSAL_REPOSITORY = re.compile(r"rfcs?$|proposals?$|^proposal-|enhancements?$|-design$", re.I)
_PROPOSAL_SUBJECT = re.compile(
    r"\[(?:pre-?|process\s+)?rfc\]|\brfc\b|\bproposal\b|\b(?:kep|pep|flip|kip|spip|aip|cep|sip)-?\d",
    re.IGNORECASE,
)
# Kept for titles: what "I am <feeling> that X" and "my <worry> is X" lead in with.
_FEELING = (
    r"concerned|worried|nervous|uneasy|wary|uncomfortable|skeptical|sceptical|unconvinced"
    r"|not\s+convinced|hesitant|troubled|afraid|leery|reluctant|dubious"
)
_WORRY_NOUN = r"concerns?|worry|worries|fears?|objections?|reservations?|hesitations?|doubts?"


def is_root(post: Post) -> bool:
    """The first post of its thread: it replies to nothing and its thread is keyed by it
    (a forum topic's first post, for the forum)."""
    if post.source is Source.DISCOURSE:
        return post.headers.get(HEADER_POST_NUMBER) == "1"
    return (
        not post.in_reply_to
        and not post.references
        and (post.thread_key in {post.message_id, post.key} or _opens_on_github(post))
    )


# GitBox relays a pull request or issue being opened under a Message-ID of its own, while
# the thread is keyed by the GitHub item: "[GitHub] don-vip opened a new pull request #9:
# upgrade to ASM 6.0" is that item's first post, and its author the proposer.
_GITBOX_OPENED = re.compile(
    r"^\s*\[GitHub\]\s+(?:\[[\w.-]+\]\s+)?[\w-]+\s+opened\s+(?:a\s+new\s+)?(?:pull\s+request|issue)"
    r",?\s+#\d+",
    re.IGNORECASE,
)
# Since 2023 the subject is the item's title ("[PR] Change the default timeout (widget)"),
# and the event line opens the body: "jdoe opened a new pull request, #482:".
_GITBOX_OPENED_LINE = re.compile(
    r"^[\w-]+(?:\[bot\])?\s+opened\s+a\s+new\s+(?:pull\s+request|issue|discussion),?\s+#\d+:"
)


def _opens_on_github(post: Post) -> bool:
    return post.thread_key.endswith("@github.com>") and bool(
        _GITBOX_OPENED.match(post.subject) or _GITBOX_OPENED_LINE.match(post.text)
    )


def opens_proposal(post: Post) -> bool:
    """A thread root that proposes something, so its author is the proposer.

    An issue filed on a proposal repository (``*/rfcs``, ``tc39/proposal-*``)
    is feedback on the proposals there, unless its subject says it proposes.
    """
    if not is_root(post) or _lost_its_parent(post):
        return False
    issue = _GITHUB_ISSUE_ROOT.match(post.message_id or "")
    if issue and _PROPOSAL_REPOSITORY.search(issue.group("repo")):
        # The mirror's "[tc39/proposal-wavy-dot]" tag names the repository, not the issue.
        return bool(_PROPOSAL_SUBJECT.search(_REPOSITORY_TAG.sub("", post.subject)))
    return True


def _lost_its_parent(post: Post) -> bool:
    """A mail that says "Re:" answers something, even when its client dropped the
    In-Reply-To and References (a mirror's first message can be such a reply): it is
    no proposal, and its author no proposer."""
    return post.source is Source.MAIL and parse_subject(post.subject).is_reply


_REPOSITORY_TAG = re.compile(r"^\s*(?:re:\s*)*\[[\w.-]+/[\w.-]+\]\s*", re.IGNORECASE)


# The author of a proposal speaking of it as theirs: "I updated the RFC to ...", "added
# that to the KEP as an alternative", "in my RFC". Where the thread's root is missing (a
# mirror that starts late), this is how a reader knows who proposed.
_PROPOSAL_DOCUMENT = rf"(?:rfc|proposal|{PROPOSAL_SERIES}|design\s+doc(?:ument)?)"
_AUTHOR_OF_PROPOSAL = re.compile(
    r"\b(?:i|we)(?:'ve|\s+have)?\s+(?:just\s+|now\s+|also\s+)?(?:updated|revised|amended|edited"
    rf"|rewritten|rewrote|reworked|changed)\s+the\s+{_PROPOSAL_DOCUMENT}\b"
    r"|\badded\s+(?:that|this|it|(?:a|an|the)\s+(?:\w+\s+){0,3}?(?:section|note|paragraph))"
    rf"\s+to\s+the\s+{_PROPOSAL_DOCUMENT}\b"
    rf"|\b(?:in|of)\s+my\s+{_PROPOSAL_DOCUMENT}\b"
    r"|\bi(?:'m|\s+am)\s+going\s+to\s+(?:\w+\s+){0,4}?(?:amend|update|revise)\s+the\s+"
    rf"{_PROPOSAL_DOCUMENT}\b"
    # "I've just pushed a number of commits addressing the first round of reviews."
    r"|\b(?:i|we)(?:'ve|\s+have)?\s+(?:just\s+|now\s+)?pushed\s+(?:\w+\s+){0,4}?(?:commits?"
    r"|changes|updates?|revisions?)\s+(?:that\s+)?(?:address(?:es|ing)?|to\s+address)\b"
    # The same with the "I" left out, as replies often do: "Updated the RFC.", "Changed in
    # the RFC."
    r"|(?:^|(?<=[.!:]\s))(?:just\s+|now\s+)?(?:updated|revised|amended|changed\s+in)\s+the\s+"
    rf"{_PROPOSAL_DOCUMENT}\b",
    re.IGNORECASE | re.MULTILINE,
)
# Someone thanking the author for it: "@White-Oak Thanks for the RFC!", "Thanks @alice for
# this proposal", "thanks for the write-up, @bob". The login named is the proposer.
_THANKED_DOCUMENT = rf"(?:the|this|your)\s+(?:\w+\s+)?(?:{_PROPOSAL_DOCUMENT}|write-?up)\b"
_THANKED_FOR_PROPOSAL = re.compile(
    rf"@(?P<before>[\w-]+)[,:!]?\s+thanks?\s+(?:you\s+)?(?:\w+\s+)?for\s+{_THANKED_DOCUMENT}"
    rf"|\bthanks?\s+(?:you\s+)?@(?P<named>[\w-]+)\s+for\s+{_THANKED_DOCUMENT}"
    rf"|\bthanks?\s+(?:you\s+)?for\s+{_THANKED_DOCUMENT}[,!]?\s+@(?P<after>[\w-]+)",
    re.IGNORECASE,
)


def proposers_by_word(posts: Iterable[Post]) -> list[Person]:
    """With the thread's root missing: who speaks of the proposal as their own work,
    and whom others thank for writing it (each post's prose is cut once)."""
    found: list[Person] = []
    for post in posts:
        text = prose(post.text)
        if _AUTHOR_OF_PROPOSAL.search(text):
            found.append(post.author)
        found.extend(_thanked(text))
    return found


def _thanked(text: str) -> list[Person]:
    logins = (
        match.group("before") or match.group("named") or match.group("after")
        for match in _THANKED_FOR_PROPOSAL.finditer(text)
    )
    # The address GitHub's mirror mails carry for a login: the proposer is known by it,
    # not by a display name anyone could type.
    return [Person(login, f"{login}@users.noreply.github.com") for login in logins]


# --------------------------------------------------------------------------
# Detection: every sentence read in its context, then grouped into points
# --------------------------------------------------------------------------

# The "cue" of a point in which no sentence objects or asks.
NO_FORM = "context"

# A point this short ("-1", "Can they not already?") says that there is a problem;
# the next sentence of the same paragraph says what it is.
BARE_WORDS = 5
# At most this many sentences of a point are kept as its text.
POINT_SENTENCES = 4
# A paragraph is an ask's reason when the model gives a sentence of it some weight:
# thanks and greetings read under 0.2, a situation told plainly ("We can't swap the
# hardware") from about 0.3.
REASON_FLOOR = 0.3
# At most this many sentences of a point's paragraph are shown with it.
PARAGRAPH_SENTENCES = 5
# Within a point, a sentence this likely (by the sentence model) belongs to its text.
IN_POINT = 0.5
# Below this, a sentence that worries or objects outright is still no point: all else
# the model reads in it says answer (a defended wish's "I worry as much for X as for
# Y" reads 0.03; outright concerns readers labelled read from 0.05 to 0.2 and up).
EXPLICIT_FLOOR = 0.05
# A finding this short that only states a stance is no point beside another one.
STANCE_WORDS = 6
# A sentence that names a worry and leaves it for the next paragraph to say: "+1 in
# principle, but one thing worries me.", "My own worry is a different one.", "I do
# have a couple of concerns though."
_ANNOUNCES = re.compile(
    r"(?:\b(?:one|another|two|three|a\s+few|a\s+couple\s+of|some)\s+(?:\w+\s+)?(?:things?|points?"
    r"|aspects?|details?)\s+(?:still\s+|really\s+)?(?:worr(?:y|ies)|bothers?|concerns?|troubles?)\s+me"
    r"|\bmy\s+(?:own\s+|main\s+|real\s+|other\s+)?(?:concern|worry|objection|problem|issue)\s+is\s+"
    r"(?:a\s+|an\s+)?(?:different|another|other|separate)(?:\s+one)?"
    r"|\bi\s+(?:do\s+|also\s+|still\s+)?(?:have|see)\s+(?:one|a|two|three|a\s+few|a\s+couple\s+of|some)"
    r"\s+(?:\w+\s+)?(?:concerns?|worr(?:y|ies)|reservations?|issues?|problems?)(?:\s+(?:though|however"
    r"|here|with\s+(?:this|it|that)|with\s+the\s+(?:[\w'-]+\s+){0,4}?[\w'-]+(?:\s+as\s+(?:written"
    r"|proposed|it\s+stands))?"
    # "I have a problem with point 1 though."
    r"|with\s+(?:point|item|step|section|part|clause|rule)\s+[\w.]+(?:\s+though)?))?"
    # "Something nobody has brought up yet: documentation translations."
    r"|\b(?:thing|point|issue|aspect|angle|something)\s+(?:that\s+)?(?:nobody|no\s+one|no-one)\s+"
    r"(?:has\s+|have\s+)?(?:yet\s+)?(?:mentioned|brought\s+up|raised)(?:\s+yet)?\s*:(?:\s+[\w'-]+){0,4}"
    # A heading for what follows: "Question about permissions, because this one would hit
    # us hard."
    r"|^(?:one\s+|a\s+|another\s+|my\s+)?(?:question|point|concern|issue|worry|comment)\s+(?:about"
    r"|on|regarding)\s+[\w\s/'-]{1,40}?(?:,\s+(?:because|since|as)\s+[^.;:!?]{1,60})?"
    # "+1 from me, with one big "but".", "In principle yes, with one caveat:"
    r"|" + WITH_A_BUT +
    # "I look after the Windows builds, so I'll try to describe the situation there, ...":
    # the writer says the paragraphs after it tell what they see.
    r"|\b(?:i'?ll|i\s+will|let\s+me)\s+(?:try\s+to\s+)?(?:describe|explain|lay\s+out|outline|sketch)"
    r"\s+(?:the\s+situation|what|why|how|where)\b[^.;:!?]{0,160}"
    # "I have mixed feelings about this one." over the paragraphs that say why.
    r"|\b(?:i\s+have|i've\s+got|i\s+still\s+have)\s+(?:very\s+|some\s+|rather\s+)?mixed\s+feelings"
    r"(?:\s+(?:about|on)\s+(?:this|it|that)(?:\s+(?:one|proposal|change))?)?"
    # A stance that says its reasons come next: "-0 from me for now, and I want to explain
    # why, because I suspect I'm the odd one out here.", "-1, for a couple of reasons.",
    # "-0 for now, mostly because of something I've seen happen elsewhere.", "I'm in favour
    # of retiring it, but I want us to be careful about how."
    r"|\b(?:want\s+to|let\s+me|i'll|i\s+will|i'd\s+like\s+to)\s+(?:briefly\s+)?explain\s+why\b[^.;:!?]{0,80}"
    r"|\bhere(?:'s|\s+is)\s+why|\bfor\s+(?:a\s+few|a\s+couple\s+of|two|three|several)\s+reasons"
    r"|\bbecause\s+of\s+something\s+(?:i|we)(?:'ve|\s+have)\s+seen\b[^.;:!?]{0,40}"
    r"|\bcareful\s+about\s+how(?:\s+we\s+do\s+(?:it|this|that))?)"
    r"\s*[.:!,]*$"
)
# The words a paragraph after such an announcement needs to be what it announced.
ANNOUNCED_WORDS = 8
# At most this many words make a paragraph that leads into the next one's reasons.
LEAD_WORDS = 30
# A paragraph that says something new of the proposal ("This creates a second source of
# truth.") is a point of its own, not the reasons of the one before.
_CLAIMS_AFRESH = re.compile(r"^(?:also,?\s+|and\s+)?(?:this|that|it)\s+(?!is\s+because\b)")
# A point its writer says they made before: "In summary, ...", "As I said earlier", "I
# answered on the 2 Jira issues".
_SUMS_UP = re.compile(
    r"\b(?:in\s+summary|to\s+summari[sz]e|to\s+sum\s+(?:it\s+)?up|as\s+i\s+(?:already\s+)?(?:said|wrote"
    r"|mentioned|explained)|like\s+i\s+said|for\s+the\s+reasons?\s+i\s+(?:gave|stated|mentioned|explained)"
    r"|as\s+(?:already\s+)?(?:said|stated|mentioned)\s+(?:before"
    r"|earlier|above)|i\s+(?:already\s+)?answered\s+(?:on|in|there|above))\b"
)
# Not convinced by the answer, said so: "I'm still not convinced anyone will say it",
# "So I'm not sure that really answers it". Written under an answer to the writer's own
# concern, it is that concern again.
_STILL_UNCONVINCED = re.compile(
    r"\bstill\s+(?:not\s+|un)(?:convinced|sure|persuaded|thrilled|happy|keen|comfortable)\b"
    # "A warning at startup is better than nothing. I'd still prefer that we refuse ...".
    r"|\bi(?:'d|\s+would)?\s+still\s+(?:prefer|rather|want|like)\b"
    r"|\bi\s+still\s+(?:think|believe|feel)\b|\bstill\s+(?:worried|concerned|skeptical"
    r"|sceptical|wrong|(?:a\s+)?-1)(?!\w)"
    # Doubt and a concession together: "I'm not convinced the assert buys back what we
    # give up, but I'll take it for now and not block the series".
    r"|\bnot\s+(?:\w+\s+)?convinced\b[^.;]*\bbut\b[^.;]*\b(?:(?:won't|will\s+not|not)\s+block|i'll\s+take\s+it"
    r"|won't\s+hold\s+(?:it|this|that|the\s+\w+)\s+up)\b|\b(?:not\s+sure|doubt)\s+(?:that|this|it)\s+(?:really\s+|fully\s+)?(?:answers"
    r"|addresses|solves|covers|settles)\b|\b(?:doesn't|does\s+not|didn't|did\s+not)\s+(?:really\s+"
    r"|quite\s+)?(?:answer|address|solve|settle)\s+(?:it|that|this|my"
    r"|what\s+i\s+(?:raised|asked|meant|pointed\s+out))\b"
    # "Documenting it is better than nothing, but it's not really a fix for us".
    r"|\b(?:it|that|this)(?:(?:'s|\s+is)\s+not|\s+isn't)\s+(?:really\s+|quite\s+)?(?:a\s+)?"
    r"(?:fix|solution|answer|enough)\s+for\s+(?:me|us)\b"
    # "It doesn't touch the actual problem though: we need more reviewers".
    r"|\b(?:doesn't|does\s+not|didn't|did\s+not)\s+(?:really\s+)?(?:touch|fix|address|solve|change)\s+the\s+"
    r"(?:actual|real|underlying|core)\s+problem\b"
)
# The objection kept, said anywhere in the paragraph: "I'm keeping the objection on (1).
# A first-time user ... gets a different experience", "My objection stands."
_KEEPS_OBJECTION = re.compile(
    r"\bkeep(?:ing)?\s+(?:my|the|our)\s+(?:objection|-1|veto)\b"
    r"|\b(?:my|the|our)\s+(?:objection|-1|veto)\s+stands\b"
)
# A writer saying how much their point weighs, not making another: "I won't block",
# "I'm not going to hold the RFC up over it", "neither is a blocker", "I've said my piece".
# Standing aside, in the words both of these use: "won't block", "not going to hold it up".
_WONT = r"(?:won't|will\s+not|wouldn't|would\s+not|not\s+going\s+to)"
_STAND_IN_THE_WAY = r"(?:block|veto|stand\s+in\s+the\s+way|hold\s+(?:\w+\s+){0,3}?up)"
_WEIGHS_OWN = re.compile(
    rf"\b(?:(?:{_WONT}|don't\s+want\s+to|do\s+not\s+want\s+to)\s+(?:\w+\s+)?{_STAND_IN_THE_WAY}"
    r"|(?:is|are|it's|that's)\s+(?:not|no)\s+(?:a\s+)?(?:hard\s+)?blockers?|neither\s+(?:one\s+)?is\s+a\s+blocker"
    r"|i've\s+said\s+my\s+piece)\b"
)
# Giving way on a point in the words that make it: "I can live with that", "But I won't
# block it.", "I've made my point", "Not thrilled, but I understand why", "OK from me",
# "Fine with going to a vote".
_GIVES_WAY = re.compile(
    r"\b(?:i|we)\s+(?:can|could)\s+(?:\w+\s+){0,6}?live\s+with\b"
    rf"|\b{_WONT}\s+(?:\w+\s+)?(?:{_STAND_IN_THE_WAY}|object|argue\s+against"
    r"|(?:keep\s+)?fight(?:ing)?\s+(?:it|this|that|on)"
    r"|(?:keep\s+)?argu(?:e|ing)\s+(?:\w+\s+){0,3}?any\s+(?:further|more|longer))\b"
    r"|\bi've\s+(?:said\s+my\s+piece|made\s+my\s+point)\b"
    r"|\bnot\s+(?:thrilled|happy|ideal)\b[^.;]*\bbut\s+(?:i|we)\s+(?:understand|get|see)\b"
    r"|\b(?:ok|okay|fine)\s+from\s+me\b|\bfine\s+with\s+(?:going\s+to\s+)?(?:a\s+)?vote\b"
    # "`pm pack` plus the mirror variable covers us, as long as it's documented".
    r"|\b(?:covers|works\s+for)\s+(?:us|me)\b"
)
# What keeps a point open after giving way: "I won't hold the +2 over it, but I want an
# SMP job", "Recusal I could live with. A cap of 3 is still a cap".
_YET = re.compile(r"\b(?:but|however|though|unless|except|still)\b")
# The share of content words a later point by the same raiser must repeat to be the
# same concern made again (``same_topic`` with this share); and of the longer text's,
# since a short point's few words ("let Ant Tasks in a branch one day") recur in a long
# new one about something else ("the only issue I see is ... Ant Tasks on gitbox ...").
RESTATED_SHARE = 0.5
RESTATED_SHARE_OF_LONGER = 0.3
# A proposer's agreement this short takes a point up; a longer answer argues on.
ADOPTION_SENTENCES = 4
# A reply agreeing with a post's concerns in at most this many sentences seconds them.
SECONDING_SENTENCES = 2
# A reply of thanks alone, in at most this many words, answers nothing.
THANKS_WORDS = 5


@dataclass(frozen=True, slots=True)
class UnitReading:
    """One sentence, its features and the probability that it carries a concern."""

    unit: Unit
    features: Mapping[str, float]
    probability: float


@dataclass(frozen=True, slots=True)
class PostReading:
    """A post's sentences read in context, and the probability that it raises a concern."""

    sentences: tuple[UnitReading, ...]
    features: Mapping[str, float]
    probability: float
    context: PostContext = field(default_factory=PostContext)


def read_post(
    post: Post,
    context: PostContext,
    model: ConcernModel = DEFAULT_MODEL,
    handle: str = DEFAULT_HANDLE,
    units: tuple[Unit, ...] | None = None,
    cues: tuple[frozenset[str], ...] | None = None,
) -> PostReading:
    """Every sentence of the post's own prose, and the post as a whole, as the model reads them."""
    if units is None:
        units = units_of(post.text, handle)
    if cues is None:
        cues = tuple(cues_of(unit) for unit in units)
    sentences: list[UnitReading] = []
    intro_is_concerns = False
    for index, unit in enumerate(units):
        if unit.introduces_list:
            # A sentence ending on a colon introduces what follows it ("Revised proposal:");
            # a paragraph that counts the list under it without one speaks for it in any
            # sentence ("... a few things I'd like answered. Sorry, it got long.").
            said = introduces_concerns_at(units, index)
            same_intro = index > 0 and units[index - 1].introduces_list
            if same_intro and units[index - 1].point == unit.point and not _ends_on_colon(unit):
                said = said or intro_is_concerns
            intro_is_concerns = said
        elif not unit.introduced:
            intro_is_concerns = False
        features = features_of(units, index, context, intro_is_concerns, cues)
        sentences.append(UnitReading(unit, features, model.sentence_probability(features)))
    whole = post_features(units, tuple(r.probability for r in sentences), context, cues)
    return PostReading(tuple(sentences), whole, model.post_probability(whole), context)


def _ends_on_colon(unit: Unit) -> bool:
    return unit.text.rstrip().endswith(":")


def reread(reading: PostReading, model: ConcernModel) -> PostReading:
    """The same post read by another model (fitting tries many): no text is read again."""
    sentences = tuple(
        UnitReading(r.unit, r.features, model.sentence_probability(r.features))
        for r in reading.sentences
    )
    units = tuple(r.unit for r in sentences)
    cues = tuple(cues_of(unit) for unit in units)
    whole = post_features(units, tuple(r.probability for r in sentences), reading.context, cues)
    return PostReading(sentences, whole, model.post_probability(whole), reading.context)


def findings_of(
    post: Post, reading: PostReading, model: ConcernModel = DEFAULT_MODEL
) -> tuple[Finding, ...]:
    """The points a post raises, once the model says it raises any.

    The strongest sentence's paragraph (or list item) is one point; another
    paragraph or item is a point of its own when its best sentence reaches
    ``point_threshold``, and so is every item of a list introduced as
    concerns ("Some issues to address:"). A run of questions, each on a line
    of its own, is one point per question. What its writer marks as a nit is none,
    and nor is a drawback of the way out they offer themselves.
    """
    points: dict[tuple[int, int | None], list[UnitReading]] = {}
    for sentence in reading.sentences:
        points.setdefault(sentence.unit.point, []).append(sentence)
    # Points the writer sets aside: nits, the drawbacks of their own way out, questions
    # they give their reason for; and, reviewing someone's idea, the proposer's ways out.
    aside = (
        _nits(reading.sentences)
        | _own_alternatives(points)
        | _only_asking(points)
        | _led_by_a_plain_question(points)
        | _put_down_to_others(points, reading.context.others_names)
        | _deliberates_own_problem(points)
        | _answers_by_name(points, reading.context)
        | _weighs_own_items(points)
        | _asked_without_objecting(points)
    )
    if reading.context.proposer_reviewing:
        aside |= _ways_out(points) | _granted(points)
    if _endorses(reading.sentences):
        return ()
    # A review that requests changes objects, whatever words its comments use.
    demands = reading.context.requests_changes
    candidates = [
        r
        for r in reading.sentences
        if (_says_something(r) or (demands and _has_words(r.unit.text)))
        and r.unit.point not in aside
    ]
    explicit = [r for r in candidates if _explicit(r, reading.context)]
    # "Two things:" over a list, from someone who did not propose: its items are points
    # however the post as a whole reads.
    listed_points = not (reading.context.by_proposer or reading.context.is_proposal) and any(
        r.features.get("introduced_as_concerns") for r in candidates
    )
    # "OK, thank you. ... / But one more thing. ...": an acknowledgement does not speak
    # for the matter its writer turns to next.
    turned = _turned_to(points, aside, reading.context)
    gated = reading.probability >= model.post_threshold or bool(explicit) or listed_points
    if not candidates or not (gated or demands or turned):
        return ()
    if not (gated or demands):
        candidates = [r for r in candidates if r.unit.point in turned]
        points = {point: members for point, members in points.items() if point in turned}
    # Where a post both objects and proposes a way out, the objection is its point and
    # the way out is the remedy: a likely fault outranks a likelier suggestion. A fault
    # stated ("Parsing 1.8M blocks at every open is going to hurt") outranks the question
    # that asks for its evidence ("Do you have numbers for anything big?").
    likely = [r for r in candidates if r.probability >= model.post_threshold]
    faulting = [r for r in likely if _finds_fault(r)] or [r for r in likely if _objects([r])]
    best = max(faulting or candidates, key=lambda r: r.probability)
    listed = reading.features.get("lists_concerns", 0.0) > 0
    on_hunks = _remarks_on_hunks(post, points, aside, model.post_threshold, demands=demands)
    aside = aside | _review_summary(post, points, on_hunks)
    chosen = [
        members
        for point, members in points.items()
        if point not in aside
        and (
            point == best.unit.point
            or point in on_hunks
            or (_strength(members) >= model.point_threshold and _objects(members))
            or any(r in explicit for r in members)
            or (listed and any(r.features.get("introduced_as_concerns") for r in members))
        )
    ]
    chosen += _siblings_of(chosen, points, aside)
    chosen += _before_the_next_point(chosen, points, aside)
    chosen.sort(key=lambda members: members[0].unit.index)
    findings: list[Finding] = []
    groups: list[list[UnitReading]] = []
    # Items of a list of concerns: each is a point, however short ("it breaks the API").
    listed_items: set[int] = set()
    for members in chosen:
        # A remark on a hunk of a review that requests changes is all the reviewer said
        # there, the fault stated plainly and the way out asked after it ("This runs on
        # every request ... Warn once at startup instead?"): one point, never a remedy.
        on_hunk = demands and members[0].unit.point in on_hunks
        kept = [r for r in members if _has_words(r.unit.text)] if on_hunk else _kept(members)
        apart = _questions_apart(kept)
        for group in apart:
            # A paragraph that holds two points shows each alone.
            finding = _finding(post, group, reading.sentences, widen=len(apart) == 1)
            if finding.cue == NO_FORM and group[0].unit.item is None and not demands:
                # What would be shown neither objects nor asks (the sentence that did was
                # too weak to keep): "(I think the naming is fine.)" is no concern. An
                # item of a list of concerns needs no form of its own, nor does the
                # comment of a review that requests changes.
                continue
            listed_item = any(r.features.get("introduced_as_concerns") for r in group)
            if not listed_item and not on_hunk and _remedy(finding, group, findings):
                continue
            if listed_item:
                listed_items.add(len(findings))
            findings.append(finding)
            groups.append(group)
    findings = _reasons_joined(findings, groups, points, aside)
    findings = _announcements_joined(post, findings, groups, reading.sentences)
    # "For now, I'm not so sure." beside the point it sums up is a stance, not a point.
    pointed = [f for i, f in enumerate(findings) if i in listed_items or not _bare_stance(f)]
    return tuple(_without_weighing(pointed or findings))


def _without_weighing(findings: list[Finding]) -> list[Finding]:
    """A closing paragraph that weighs the points before it together ("Neither of these
    comes up often, but when they do ...", "I realise both of these are niche ...") makes
    none of its own, once there are two points before it to weigh."""
    return [
        f
        for at, f in enumerate(findings)
        if not (at >= WEIGHED_POINTS and _WEIGHS_THE_POINTS.match(_probe(f.sentences[0])))
    ]


# How many points a paragraph that weighs "both of these" comes after.
WEIGHED_POINTS = 2
_WEIGHS_THE_POINTS = re.compile(
    r"^(?:but\s+|and\s+|so\s+|still,?\s+|i\s+reali[sz]e\s+(?:that\s+)?)?(?:neither|both|none|all|each)"
    r"\s+of\s+(?:these|those|them|this|the\s+above)\b|^(?:these|those)\s+(?:two|three|points|issues"
    r"|concerns)\b"
)


# How likely an item of a list must read to stand beside a sibling that is a concern.
SIBLING_FLOOR = 0.25


def _siblings_of(
    chosen: list[list[UnitReading]],
    points: Mapping[tuple[int, int | None], list[UnitReading]],
    aside: frozenset[tuple[int, int | None]],
) -> list[list[UnitReading]]:
    """The other items of a numbered or bulleted list one of whose items is a concern:
    a writer lists like with like ("1. restic's vendor tarball lands in the lookaside
    every month ... Has anyone asked infra?" beside "2. rclone can't use the default"),
    so an item that reads at all like a point is one."""
    taken = {members[0].unit.point for members in chosen}
    runs: list[list[tuple[int, int | None]]] = []
    for point in sorted(points, key=lambda p: (p[0], -1 if p[1] is None else p[1])):
        if point[1] is None:
            continue
        if runs and runs[-1][-1][0] in (point[0], point[0] - 1):
            runs[-1].append(point)
        else:
            runs.append([point])
    extra: list[list[UnitReading]] = []
    for run in runs:
        if len(run) < 2 or not taken & set(run):
            continue
        extra += [
            points[point]
            for point in run
            if point not in taken
            and point not in aside
            and _strength(points[point]) >= SIBLING_FLOOR
        ]
    return extra


def _before_the_next_point(
    chosen: list[list[UnitReading]],
    points: Mapping[tuple[int, int | None], list[UnitReading]],
    aside: frozenset[tuple[int, int | None]],
) -> list[list[UnitReading]]:
    """The paragraph before one that says it brings another point ("Separately, and
    smaller: ...", "Also, ..."): the writer counts it as a point too, when it finds
    fault in so many words ("Conduct cases are draining in a way code review is not,
    ..."; a question there may only ask)."""
    taken = {members[0].unit.point for members in chosen}
    order = list(points)
    extra: list[list[UnitReading]] = []
    for members in chosen:
        at = order.index(members[0].unit.point)
        if at == 0 or not adds_another_point(members[0].unit):
            continue
        before = order[at - 1]
        if (
            before not in taken
            and before not in aside
            and before[1] is None
            and any(_finds_fault(r) for r in points[before])
            and _strength(points[before]) >= SIBLING_FLOOR
        ):
            extra.append(points[before])
            taken.add(before)
    return extra


def _remedy(finding: Finding, group: list[UnitReading], earlier: list[Finding]) -> bool:
    """A way out asked as a question after the writer has found fault in the same post
    ("I have only one fear: ... What about creating a module where ...?"): the remedy
    the writer offers for their own point, not a point of its own."""
    return (
        finding.cue in ("counter_proposal", "challenge_question", "question")
        and group[0].unit.is_question
        and bool(
            group[0].features.get("counter_proposal") or _ASKS_FOR_A_WAY.match(group[0].unit.probe)
        )
        and any(f.cue in _FAULT_FORMS for f in earlier)
    )


# "Is it possible to keep the opaque type but let the caller provide memory?"
_ASKS_FOR_A_WAY = re.compile(
    r"^(?:so\s+|and\s+)?(?:is\s+it\s+possible|would\s+it\s+be\s+possible|is\s+there\s+(?:any\s+)?(?:way"
    r"|chance)|could\s+we|can\s+we|could\s+you|can\s+you|would\s+you\s+consider"
    # "Could the perf detector stay, at least on those architectures, ...?"
    r"|(?:could|can)\s+(?:the|this|it|each|any|that)\b[^?]*?\b(?:stay|remain|keep|be\s+kept|wait"
    r"|be\s+(?:moved|pushed|deferred|postponed|split|delayed|made|dropped|limited|scoped)|say|list|carry"
    r"|require|include|add|go\s+into|also))\b"
)


def _endorses(sentences: tuple[UnitReading, ...]) -> bool:
    """A paragraph that opens with its +1 (or credits the proposal with a fix) and says
    nothing against anything, and is all the post says: "+1, the fd exhaustion problem
    has bitten us on every large deployment we run." The fault it names is the one the
    proposal fixes. (A paragraph after it is a point of its own: "+1 on the idea." then
    "One lesson from that: ... is a mistake.")"""
    opening = sentences[0].unit.probe if sentences else ""
    plus_one = OPENS_PLUS_ONE.match(opening) is not None and not _QUALIFIED.match(opening)
    # Or the paragraph credits the proposal with the fix: "We hit this in production last
    # year: ... Would have been a one-line fix with this."
    if not (plus_one or any(_CREDITS_PROPOSAL.search(r.unit.probe) for r in sentences)):
        return False
    return not any(
        r.unit.point != sentences[0].unit.point
        or r.unit.is_question
        or _MINUS_ONE.search(r.unit.text)
        or any(r.features.get(name) for name in _DISSENTING)
        for r in sentences
    )


_CREDITS_PROPOSAL = re.compile(
    r"\b(?:would|will)\s+(?:easily\s+|more\s+than\s+|already\s+)?justify\s+(?:this|it|the\s+(?:change"
    r"|proposal|rfc|pep|kip|flip))\b"
    r"|\bwould\s+have\s+been\s+(?:a|an)\s+(?:[\w-]+\s+){0,2}(?:fix|change)\s+with\s+(?:this|it)\b"
    r"|\b(?:this|it)\s+would\s+have\s+(?:saved|spared|prevented|caught)\b"
)
# "+1", "+1, long overdue.", "Generally +1 from me", "Big +1".
# What an endorsement may not say: a "but", a worry, an objection, a doubt, a condition.
_DISSENTING = frozenset(
    {
        "contrast",
        "worry",
        "objection",
        "doubt",
        "refusal",
        "caution",
        "challenge_question",
        "requirement",
    }
)
# A +1 held back in its first word: "Mostly +1.", "Tentatively +1".
_QUALIFIED = re.compile(
    r"^(?:mostly|partly|partially|conditionally|tentatively|weak|soft|qualified)\b"
)


def _ballot_alone(reading: UnitReading, sentences: tuple[UnitReading, ...]) -> bool:
    """A "-1 as written." that is a paragraph of its own: the ballot, whose reasons the
    next paragraph gives ("Removing the hooks breaks firkin-geo outright. ..."), and one
    point with them, as the announcement of a worry is."""
    text = reading.unit.text
    return (
        _terse(text)
        and _MINUS_ONE.search(text) is not None
        and [r for r in sentences if r.unit.point == reading.unit.point] == [reading]
    )


def _announcements_joined(
    post: Post,
    findings: list[Finding],
    groups: list[list[UnitReading]],
    sentences: tuple[UnitReading, ...],
) -> list[Finding]:
    """A sentence that only announces a worry ("+1 in principle, but one thing worries
    me.") and the paragraph after it, where the worry is, are one point: a point of the
    paragraph's own joins it, and otherwise the paragraph becomes its text."""
    joined: list[Finding] = []
    skip: set[int] = set()
    for at, (finding, group) in enumerate(zip(findings, groups, strict=True)):
        if at in skip:
            continue
        named = len(group) == 1 and (
            bool(_ANNOUNCES.search(group[0].unit.probe)) or _ballot_alone(group[0], sentences)
        )
        if not (named or _leads_into_next(post, group, sentences)):
            joined.append(finding)
            continue
        after = _next_point(group[0], sentences)
        following = at + 1 < len(findings) and (
            groups[at + 1][0].unit.point == after
            # The next point shows that paragraph as its reason (_reasons_joined).
            or (named and _opens_with_point(findings[at + 1], after, sentences))
        )
        if following and not named:
            # A stance of its own paragraph beside a point of the next one: two points.
            joined.append(finding)
            continue
        if following:
            nxt = findings[at + 1]
            skip.add(at + 1)
            joined.append(
                replace(
                    nxt,
                    sentences=(*finding.sentences, *nxt.sentences),
                    stated=(*(finding.stated or finding.sentences), *(nxt.stated or nxt.sentences)),
                )
            )
            continue
        members = [r for r in sentences if r.unit.point == after]
        if after is None or sum(r.unit.words for r in members) < ANNOUNCED_WORDS:
            joined.append(finding)
            continue
        told = members[: POINT_SENTENCES - 1]
        joined.append(
            replace(
                finding,
                sentences=(*finding.sentences, *(r.unit.text for r in told)),
                stated=finding.stated or finding.sentences,
                title=make_title(told[0].unit.text, cue=finding.cue) if named else finding.title,
            )
        )
    return joined


def _opens_with_point(
    finding: Finding, point: tuple[int, int | None] | None, sentences: tuple[UnitReading, ...]
) -> bool:
    """Whether a finding's text opens with the first sentence of ``point``."""
    first = next((r.unit.text for r in sentences if r.unit.point == point), None)
    return first is not None and finding.sentences[:1] == (first,)


def _leads_into_next(
    post: Post, group: list[UnitReading], sentences: tuple[UnitReading, ...]
) -> bool:
    """A point that is a paragraph of one sentence, a stance whose reasons the next
    paragraph gives ("I'm skeptical, mostly because of the first-argument rule." over
    "Our own standard library is not consistent about where the subject goes. ..."), or
    a paragraph that ends on a colon ("We have a lot of code shaped like this:"): a
    reader is shown what it leads into, when no quote of another mail comes between."""
    lead = group[0].unit
    paragraph = [r.unit for r in sentences if r.unit.point == lead.point]
    opens = len(paragraph) == 1 or paragraph[-1].text.rstrip().endswith(":")
    if lead.item is not None or not opens or paragraph[-1].is_question:
        return False
    if sum(unit.words for unit in paragraph) > LEAD_WORDS:
        return False
    after = _next_point(group[-1], sentences)
    members = [r for r in sentences if r.unit.point == after]
    if after is None or after[1] is not None or not members or not _tells(members):
        return False
    return not any(lead.line < at <= members[0].unit.line for at in post.quote_at)


def _tells(members: list[UnitReading]) -> bool:
    """A paragraph that tells how things are, as reasons do: it opens on no objection of
    its own, and neither asks, nor proposes, nor leads into a list ("So how to proceed?",
    "I would suggest that we ship it separately instead." are moves of their own)."""
    opening = members[0].features
    if members[-1].unit.text.rstrip().endswith(":") or _CLAIMS_AFRESH.match(members[0].unit.probe):
        return False
    if sum(r.unit.words for r in members) < ANNOUNCED_WORDS:
        return False
    return not any(opening.get(name) for name in OBJECTION_FORMS) and not any(
        r.unit.is_question or r.features.get("counter_proposal") or r.features.get("wish")
        for r in members
    )


def _reasons_joined(
    findings: list[Finding],
    groups: list[list[UnitReading]],
    points: Mapping[tuple[int, int | None], list[UnitReading]],
    aside: frozenset[tuple[int, int | None]],
) -> list[Finding]:
    """A way out asked or stated right after the paragraph that gives its reason, a
    reason told without a word of judgement ("If we change the electorate this close to
    it, people who planned to run will be working under rules that changed under them."
    then "Can this apply from the 2025 election instead?", or "Without some hotness
    awareness I'd rather keep -Os out of this."): the reason is the point, and the ask
    its remedy, shown together, the whole paragraph of it ("These are installed with 5
    to 8 year service contracts. We can't swap the hardware, ...")."""
    order = list(points)
    taken = {r.unit.point for group in groups for r in group}
    joined: list[Finding] = []
    for finding, group in zip(findings, groups, strict=True):
        lead = group[0]
        at = order.index(lead.unit.point)
        before = order[at - 1] if at > 0 else None
        reason = points[before] if before is not None else []
        if (
            (
                lead.features.get("counter_proposal")
                or _demands_alone(lead, points)
                or _asks_alone(lead, points)
            )
            and before is not None
            and before not in taken
            and before not in aside
            and before[1] is None
            and any(r.probability >= REASON_FLOOR and _has_words(r.unit.text) for r in reason)
        ):
            told = [r for r in reason if _has_words(r.unit.text)][-POINT_SENTENCES:]
            finding = replace(
                finding,
                sentences=(*(r.unit.text for r in told), *finding.sentences),
                stated=(*(r.unit.text for r in told), *(finding.stated or finding.sentences)),
                title=make_title(told[0].unit.text, cue=finding.cue),
            )
        joined.append(finding)
    return joined


def _demands_alone(
    lead: UnitReading, points: Mapping[tuple[int, int | None], list[UnitReading]]
) -> bool:
    """A paragraph that only states what must be done ("Please make sure `tests/` and
    the fixtures end up in the sdist."): a way out, whose reason the paragraph before
    gives."""
    members = points[lead.unit.point]
    return len(members) == 1 and bool(lead.features.get("requirement")) and lead.unit.item is None


def _asks_alone(
    lead: UnitReading, points: Mapping[tuple[int, int | None], list[UnitReading]]
) -> bool:
    """A paragraph that is one pointed question, put after the paragraph it asks about
    ("What would it take to get people outside the company reviewing it?")."""
    return (
        lead.unit.is_question
        and bool(lead.features.get("challenge_question"))
        and len(points[lead.unit.point]) == 1
    )


def _next_point(
    reading: UnitReading, sentences: tuple[UnitReading, ...]
) -> tuple[int, int | None] | None:
    """The place in the post that comes right after this sentence's own."""
    return next(
        (
            r.unit.point
            for r in sentences[reading.unit.index + 1 :]
            if r.unit.point != reading.unit.point
        ),
        None,
    )


def _put_down_to_others(
    points: Mapping[tuple[int, int | None], list[UnitReading]], others: frozenset[str]
) -> frozenset[tuple[int, int | None]]:
    """The points of a summary that name whose they are: "Timing (Olu): cut-over after
    3.3.0 ships.", "Release notes depend on the JIRA API (Tomasz, with +1s from Olu)".
    A chair or a shepherd sums up the thread's concerns; they are their raisers', not the
    summariser's. Two such points are a summary; one alone may be the writer's own."""
    named = frozenset(
        point
        for point, members in points.items()
        if any(_names_someone(r.unit.text, others) for r in members)
    )
    if len(named) < 2:
        return frozenset()
    # In such a summary, "Priya, Kenji and Olu are in favour; Marguerite won't block but
    # wants a triage rotation." reports where people stand: theirs too.
    reporting = frozenset(
        point
        for point, members in points.items()
        if any(len(_named_in(r.unit.text, others)) >= 2 for r in members)
    )
    return named | reporting


def _answers_by_name(
    points: Mapping[tuple[int, int | None], list[UnitReading]], context: PostContext
) -> frozenset[tuple[int, int | None]]:
    """The points of a paragraph that opens by turning to someone who spoke before, not
    the proposer ("Kwame, Argon2PasswordHasher reads memory_cost from a class attribute, ...
    Wouldn't that solve it for your hosts?", "Tomasz, the backlog in 2021 was bad, ...
    It is not 2021 any more"): it answers that person's point, it raises none against
    the proposal. The writer's next paragraph speaks for itself ("My own issue is ...")."""
    answering: set[int] = set()
    for members in points.values():
        unit = members[0].unit
        found = _VOCATIVE.match(unit.text) if unit.first_in_paragraph else None
        if found is None:
            continue
        name = (found["login"] or found["first"] or found["labelled"]).casefold()
        if name in context.earlier_names and name not in context.proposer_names:
            answering.add(unit.point[0])
    return frozenset(point for point in points if point[0] in answering)


def _weighs_own_items(
    points: Mapping[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """A paragraph after a numbered list that weighs its items by number ("I'm willing to
    withdraw the objection if (2) gets a verification design and (3) a deprecation period.
    I don't see a fix for (1)."): the points were made in the items; it makes none."""
    numbers = {
        found.group()
        for point, members in points.items()
        if point[1] is not None and (found := _DIGITS.search(members[0].unit.label))
    }
    if len(numbers) < 2:
        return frozenset()
    return frozenset(
        point
        for point, members in points.items()
        if point[1] is None
        and any(
            "".join(found.groups("")) in numbers
            for r in members
            for found in _ITEM_REFERENCE.finditer(r.unit.text)
        )
    )


_DIGITS = re.compile(r"\d+")
# "(2)", "point 2", "item 3", "#1" referring back to a numbered item of the same post.
_ITEM_REFERENCE = re.compile(r"\((\d)\)|\b(?:points?|items?)\s+(\d)\b|#(\d)\b")


# A paragraph's opening that turns to someone: "Kwame, ...", "@mhr-oss, ...", "@tfenwick
# the cache ...". (A name and "and": "Anders, all," greets; "Anders and Bo think" reports.)
_VOCATIVE = re.compile(
    r"^(?:@(?P<login>[\w-]+)(?:,|\s)|(?P<first>[A-Z][\w'-]+),\s)(?!\s*(?:all|and)\b)"
    # "Kasia – the sublicensing language is standard ...", "Priya: no. Voting rights ..."
    r"|^(?P<labelled>[A-Z][\w'-]+)\s*[:–—]\s"
)


_NAME_WORDS = re.compile(r"[\w.'-]+")


def _named_in(text: str, others: frozenset[str]) -> set[str]:
    """The other participants a sentence names as words of its own."""
    return {
        word
        # "Hiroshi's point" names Hiroshi.
        for word in (w.casefold().removesuffix("'s").strip(".'") for w in _NAME_WORDS.findall(text))
        if word in others
    }


_PARENTHESIS = re.compile(r"\(([^()]{1,80})\)")


def _names_someone(text: str, others: frozenset[str]) -> bool:
    for match in _PARENTHESIS.finditer(text):
        first = match.group(1).split(",")[0].strip().casefold()
        if first in others or first.split(" ")[0] in others:
            return True
    return False


def _nits(sentences: tuple[UnitReading, ...]) -> frozenset[tuple[int, int | None]]:
    """The points their writer marks as nits ("Nit: ...", "Minor nit, but ...") or as
    asides ("Tangent: ...", "Side note: ..."), the items of a list introduced as nits
    ("Nits:"), and all of a post opened "Chair hat on.": remarks a reviewer asks nobody
    to block on, which a careful reader does not count as concerns."""
    marked: set[tuple[int, int | None]] = set()
    under_nits = False
    # "Chair hat on." opening a post: all of it runs the process.
    chairing = bool(sentences) and CHAIR_HAT.match(sentences[0].unit.probe) is not None
    for reading in sentences:
        unit = reading.unit
        if chairing:
            marked.add(unit.point)
            continue
        if unit.introduces_list:
            under_nits = bool(NIT.match(unit.probe))
        elif not unit.introduced:
            under_nits = False
        opens_point = unit.first_in_paragraph or unit.item is not None
        marked_aside = NIT.match(unit.probe) or MARKED_ASIDE.match(unit.probe)
        if (under_nits and unit.introduced) or (opens_point and marked_aside):
            marked.add(unit.point)
    return frozenset(marked)


# The writer's own way out, offered beside the proposal: "As an alternative, ...",
# "Alternatively", "Another option would be", "You could try to ...".
_OFFERS_ALTERNATIVE = re.compile(
    r"^(?:as\s+an\s+alternative|alternatively|another\s+(?:option|approach|alternative|way)"
    r"|(?:you|one|we)\s+could\s+(?:try|instead|also\s+try)|or\s+(?:you|we)\s+could)\b"
)
# A sentence that opens on what was just said: "Note that this is not ...", "Which is ...".
_REFERS_BACK = re.compile(
    r"^(?:(?:note|mind)\s+(?:that\s+)?)?(?:this|that|which|it)\b(?!\s+(?:proposal|rfc))"
)


def _own_alternatives(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """The points that weigh the writer's own alternative, not the proposal: the one
    that offers it ("You could try X, but then you have to ..."), and the next if it
    opens on it ("Note that this is not a long-term solution, though"). A sentence in
    them that names the proposal speaks of the proposal again."""
    marked: set[tuple[int, int | None]] = set()
    offering = False
    for point, members in points.items():
        first = members[0].unit.probe
        names_proposal = any(r.features.get("refers_to_proposal", 0.0) for r in members)
        if _OFFERS_ALTERNATIVE.match(first):
            offering = not names_proposal
        elif not (offering and _REFERS_BACK.match(first)):
            offering = False
        if offering and not names_proposal:
            marked.add(point)
    return frozenset(marked)


def _deliberates_own_problem(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """A paragraph that opens on the writer's own trouble with what exists and goes on
    to ask what should be done ("Another problem I struggle with is transitive
    dependencies. Should a framework expose them? Should we introduce a new scope?"):
    the writer weighing a wish of their own, not challenging the proposal."""
    return frozenset(
        point
        for point, members in points.items()
        if len(members) > 1
        and members[0].features.get("status_quo")
        and all(_SHOULD_QUESTION.match(r.unit.probe) for r in members[1:] if r.unit.is_question)
        and any(r.unit.is_question for r in members[1:])
        # ("Should the RFC not fix that too?" asks it of the proposal.)
        and not any(r.features.get("refers_to_proposal") for r in members[1:])
    )


# What should be done, asked: "Should a framework expose ...?", "Should we introduce ...?"
_SHOULD_QUESTION = re.compile(r"^(?:so\s+|and\s+)?should\b")


def _only_asking(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """The points that ask and say beside it why, finding no fault: an offer to do the
    work ("Who's going to shepherd this RFC? Happy to do it."), or the asker's own
    account of the question ("Does this apply to the sub-projects? Just want to know
    which files to update.")."""
    return frozenset(
        point
        for point, members in points.items()
        if any(r.unit.is_question for r in members)
        and any(
            r.features.get("plan", 0.0)
            or (not r.unit.is_question and r.features.get("information_question", 0.0))
            for r in members
        )
        and not any(r.features.get(n, 0.0) for r in members for n in _FAULTS_BESIDE_A_REASON)
    )


def _asked_without_objecting(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """Every question of a post that closes by saying it objects to nothing ("Not an
    objection, I just want to know what to tell the other mods."): the questions above
    ask, unless a sentence beside them finds fault outright. (Not "Not a -1, but ...":
    that turns to an objection of its own.)"""
    if not points:
        return frozenset()
    last, closing = list(points.items())[-1]
    if not any(
        _DISCLAIMS_OBJECTING.match(r.unit.probe) and r.features.get("information_question")
        for r in closing
    ) or any(r.unit.is_question for r in closing):
        return frozenset()
    return frozenset(
        point
        for point, members in points.items()
        if point == last
        or (
            any(r.unit.is_question for r in members)
            and not any(r.features.get(n, 0.0) for r in members for n in _FAULTS_BESIDE_A_REASON)
        )
    )


_DISCLAIMS_OBJECTING = re.compile(
    r"^(?:(?:this\s+is|it'?s)\s+)?(?:not\s+an?\s+(?:objection|concern|complaint|criticism)"
    r"|(?:i'?m|i\s+am)\s+not\s+objecting)\b(?!.*\bbut\b)"
)


def _led_by_a_plain_question(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """The points led by a question its writer says only asks ("Out of curiosity, do we
    have any data on which JDKs people run? I remember the survey asked, but I don't
    think the results were posted."): what follows is why they ask, unless it worries
    or objects outright."""
    return frozenset(
        point
        for point, members in points.items()
        if _plainly_asked(members)
        and not any(r.features.get(n, 0.0) for r in members for n in _NAMES_A_FAULT)
    )


def _plainly_asked(members: list[UnitReading]) -> bool:
    """Whether a point opens with a question said to only ask, or with a sentence that
    says a question follows ("First, a question: ...") and then a question that asks."""
    lead = members[0]
    if heads_a_question(lead.unit):
        lead = next((r for r in members[1:] if r.unit.is_question), lead)
        return lead.unit.is_question and (
            says_it_only_asks(lead.unit) or bool(lead.features.get("information_question"))
        )
    return says_it_only_asks(lead.unit) and bool(lead.features.get("information_question"))


def _ways_out(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """The points that only float a way out, as a question ("Could we get the provider
    out of core?", "What about a separate module?"), finding no fault with anything. ("But
    instead, crufts accumulate in the central store" states, and is weighed as it reads.)"""
    return frozenset(
        point
        for point, members in points.items()
        if any(r.features.get("counter_proposal", 0.0) and r.unit.is_question for r in members)
        and not any(r.features.get(name, 0.0) for r in members for name in _FAULT_FORMS)
    )


def _granted(
    points: dict[tuple[int, int | None], list[UnitReading]],
) -> frozenset[tuple[int, int | None]]:
    """The proposer's paragraphs that open granting a point ("On the timing, you're both
    right that seven weeks is too short. I've changed the target to 15."): they take up
    what was raised, whatever else the reply reviews."""
    return frozenset(
        point for point, members in points.items() if _GRANTS_POINT.match(members[0].unit.probe)
    )


# "On the timing, you're both right that ...", "Segun, point taken, ...", "Fair point: ...".
_GRANTS_POINT = re.compile(
    r"^(?:[^.?!]{0,40}?[,:]\s*)?(?:you(?:'re|\s+are)\s+(?:both\s+|all\s+)?right|fair\s+(?:point|enough)"
    r"|good\s+(?:point|catch)|point\s+taken|agreed)\b(?![^.]*\bbut\b)"
)


def _bare_stance(finding: Finding) -> bool:
    """A few words of stance with nothing they are about: "I'm not so sure.", "Not sold."
    A question ("Why?") asks something, and a "-1" is a ballot."""
    return _terse(finding.text) and finding.cue != NO_FORM and not _MINUS_ONE.search(finding.text)


def _terse(text: str) -> bool:
    """A few words of stance that ask nothing: what a bare stance and a lone ballot share."""
    return len(text.split()) <= STANCE_WORDS and "?" not in text


# A ballot against, in discussion: "-1", "-0", "-0.5".
_BALLOT_AGAINST = re.compile(r"(?:^|[\s(\[])-[01](?:\.\d)?(?![\d.]\d)")
# A ballot said to be the one cast before ("Without that I'm -0" puts a new condition).
_STILL = re.compile(r"\b(?:still|remain(?:s|ing)?|stay(?:s|ing)?)\b")


def _bare_stance_said(finding: Finding) -> bool:
    """Whether what a finding states outright is a ballot against, said to stand, in a
    few words ("Still -0.", "-1 still."), whatever paragraph is shown around it."""
    said = finding.stated or finding.sentences
    return (
        len(said) == 1
        and _terse(said[0])
        and bool(_BALLOT_AGAINST.search(said[0]))
        and bool(_STILL.search(said[0].casefold()))
    )


def _says_something(reading: UnitReading) -> bool:
    """A point starts only where a sentence objects, doubts, proposes otherwise or asks:
    who wrote it to whom makes a sentence likelier to matter, never a concern by itself.
    A sentence introducing a list of concerns announces them; its items are the points."""
    features = reading.features
    if features.get("introduces_concerns", 0.0) > 0 or not _has_words(reading.unit.text):
        return False
    asks_for_information = features.get("information_question", 0.0) > 0
    return (
        features.get("no_form", 0.0) == 0.0
        or (features.get("question_to_proposal", 0.0) > 0 and not asks_for_information)
        or features.get("introduced_as_concerns", 0.0) > 0
    )


# What is left of a sentence without task boxes, @mentions, links and punctuation: a
# checklist of reviewers ("- [ ] @alexcrichton") under "leave comments with concerns:"
# names people, it raises nothing. (A "-1" alone is a ballot, and says plenty.)
_NOT_WORDS = re.compile(r"\[[ xX]?\]|@[\w-]+|https?://\S+|[^\w\s]|\d+")


def _has_words(text: str) -> bool:
    if _MINUS_ONE.search(text):  # "-1" alone on its line is a vote against
        return True
    return any(len(word) > 1 for word in _NOT_WORDS.sub(" ", text).split())


def _explicit(reading: UnitReading, context: PostContext) -> bool:
    """ "I am worried that", "-1 because", "my concern is": said outright, by someone who
    did not propose the thing, it is a concern whatever else the post does, unless all
    else the sentence and its post say makes it next to certain that it is none ("I
    worry as much for a plain java lib than for groovy so guess it is 1-1", an item of
    a wish defended against the objection it answers)."""
    features = reading.features
    stated = any(
        features.get(name, 0.0) > 0
        for name in ("worry", "objection", "caution", "refusal", "challenge_question", "doubt")
    )
    return (
        (stated or _but_i_think(features))
        and not (context.by_proposer or context.is_proposal)
        and reading.probability >= EXPLICIT_FLOOR
    )


def _but_i_think(features: Mapping[str, float]) -> bool:
    """ "However, I think that the recent practice ... is highly problematic": an opinion
    turned against what came before and finding fault is an objection, however politely
    the post opened."""
    return (
        features.get("contrast", 0.0) > 0
        and features.get("opinion", 0.0) > 0
        and (features.get("negative_judgement", 0.0) > 0 or features.get("negated_belief", 0.0) > 0)
    )


# Forms that name a fault outright: in a reply they raise one, they do not defend.
_NAMES_A_FAULT = frozenset({"worry", "objection", "caution", "refusal"})

# A further point must find fault; proposing otherwise in passing is not a point of its own.
_FAULT_FORMS = frozenset(OBJECTION_FORMS) - {"counter_proposal"}
# What a question with the asker's reason beside it must carry to be a concern anyway:
# "Who's going to shepherd this RFC? Happy to do it" asks who, and offers the answer.
_FAULTS_BESIDE_A_REASON = _FAULT_FORMS - {"challenge_question"}


def _objects(members: list[UnitReading]) -> bool:
    return any(r.features.get(name, 0.0) > 0 for r in members for name in _FAULT_FORMS) or any(
        _pointed_question(r) for r in members
    )


def _finds_fault(reading: UnitReading) -> bool:
    """Whether a sentence finds fault in a form other than a question (which may only
    ask for the evidence: "Do you have numbers for anything big?")."""
    return any(reading.features.get(name, 0.0) > 0 for name in _FAULT_FORMS)


def _pointed_question(reading: UnitReading) -> bool:
    """A question that asks something of the proposal, not one asking for information or
    the way forward ("So how to proceed?" before the writer's own answer)."""
    return (
        reading.unit.is_question
        and _says_something(reading)
        and not reading.features.get("information_question", 0.0)
    )


def _turned_to(
    points: dict[tuple[int, int | None], list[UnitReading]],
    aside: Collection[tuple[int, int | None]],
    context: PostContext,
) -> set[tuple[int, int | None]]:
    """The objecting points a writer opens as another matter ("But one more thing.")."""
    if context.by_proposer or context.is_proposal:
        return set()
    return {
        point
        for point, members in points.items()
        if point not in aside and turns_elsewhere(members[0].unit) and _objects(members)
    }


def _review_summary(
    post: Post,
    points: dict[tuple[int, int | None], list[UnitReading]],
    on_hunks: Collection[tuple[int, int | None]],
) -> set[tuple[int, int | None]]:
    """The paragraphs above a review's remarks on two or more hunks that count them
    ("Three things; the first one is a blocker for me.", "see inline"): they say where
    the points are, and each remark is one."""
    if len(on_hunks) < 2:
        return set()
    first = min(points[point][0].unit.index for point in on_hunks)
    return {
        point
        for point, members in points.items()
        if point not in on_hunks
        and members[0].unit.index < first
        and quote_above(post, members[0].unit) is None
        and any(_COUNTS_REMARKS.search(r.unit.probe) for r in members)
    }


_COUNTS_REMARKS = re.compile(
    r"\b(?:one|two|three|four|five|a\s+few|a\s+couple\s+of|several|some)\s+(?:\w+\s+)?"
    r"(?:things?|points?|comments?|remarks?|issues?|problems?|nits?)\b(?!\s+(?:about|with|in|on)\b)"
    r"|\bsee\s+(?:inline|below)\b|\bcomments?\s+inline\b|\binline\s+comments?\b"
)


def _remarks_on_hunks(
    post: Post,
    points: dict[tuple[int, int | None], list[UnitReading]],
    aside: Collection[tuple[int, int | None]],
    threshold: float,
    *,
    demands: bool = False,
) -> set[tuple[int, int | None]]:
    """In a review of a patch, the likeliest objecting point under each quoted hunk
    (any point, in a review that requests changes: its verdict objects for them).

    A reviewer who quotes a hunk of the patch, remarks on it, then quotes the next makes
    a remark of its own on each (as a pull request's review comments are, each on its
    lines): the bar that keeps one argument from splitting into several findings is not
    theirs to clear, only the post's own.
    """
    hunks = {block for block in post.quoted if _is_hunk(block)}
    if len(hunks) < 2 or _top_posted(post):
        return set()
    best: dict[str, tuple[float, tuple[int, int | None]]] = {}
    for point, members in points.items():
        block = quote_above(post, members[0].unit)
        if block not in hunks or point in aside or not (demands or _objects(members)):
            continue
        strength = _strength(members)
        if demands:
            # The verdict objects for every remark: its likeliest sentence with words.
            worded = (r.probability for r in members if _has_words(r.unit.text))
            strength = max(strength, max(worded, default=0.0))
        if strength >= threshold and (block not in best or strength > best[block][0]):
            best[block] = (strength, point)
    return {point for _, point in best.values()} if len(best) > 1 else set()


# A line of a patch as a reviewer quotes it: added, removed, or a hunk header.
_PATCH_LINE = re.compile(r"^(?:[+-](?![+-]{2}\s)|@@ )")


def _is_hunk(block: str) -> bool:
    """Whether a quoted block is (mostly) lines of a patch."""
    lines = [line for line in _unnested(block).splitlines() if line.strip()]
    if lines and lines[0].startswith("@@ "):
        return True  # a hunk's header, over lines added, removed and unchanged alike
    return bool(lines) and 2 * sum(bool(_PATCH_LINE.match(line)) for line in lines) > len(lines)


def _strength(members: list[UnitReading]) -> float:
    """How likely a point's strongest sentence that says something carries a concern."""
    return max((r.probability for r in members if _says_something(r)), default=0.0)


def _kept(members: list[UnitReading]) -> list[UnitReading]:
    """The sentences of a point that state it: from the first likely one to the last.

    A list item is short and its sentences lean on each other ("Move the loader
    into core. That ties the releases. I am not a fan."): all of it is the point.
    """
    if members[0].unit.item is not None:
        return members
    likely = [i for i, r in enumerate(members) if r.probability >= IN_POINT and _says_something(r)]
    if not likely:
        top = max(range(len(members)), key=lambda i: members[i].probability)
        likely = [top]
    return members[likely[0] : likely[-1] + 1]


def _questions_apart(members: list[UnitReading]) -> list[list[UnitReading]]:
    groups: list[list[UnitReading]] = []
    for reading in members:
        if groups and not _new_question(groups[-1][-1], reading):
            groups[-1].append(reading)
        else:
            groups.append([reading])
    return groups


def _new_question(previous: UnitReading, reading: UnitReading) -> bool:
    """A question on a line of its own after a question, or a sentence that says it adds
    another point ("Also, don't we want to keep a record of ...?")."""
    if adds_another_point(reading.unit) and _says_something(reading):
        return True
    return previous.unit.is_question and reading.unit.is_question and reading.unit.starts_line


def _finding(
    post: Post, group: list[UnitReading], sentences: tuple[UnitReading, ...], *, widen: bool = True
) -> Finding:
    units = [r.unit for r in group]
    if len(units) == 1 and units[0].words <= BARE_WORDS:
        after = units[0].index + 1
        if after < len(sentences) and sentences[after].unit.point == units[0].point:
            units.append(sentences[after].unit)
    if len(units) > POINT_SENTENCES:
        # Cut to the sentence that states the concern outright ("I am not very happy with
        # such an interface.") and what follows it, else to the likeliest and its neighbours.
        stated = next((i for i, r in enumerate(group) if _states_fault(r)), None)
        if stated is None:
            top = max(range(len(group)), key=lambda i: group[i].probability)
            stated = max(0, min(top - 1, len(units) - POINT_SENTENCES))
        units = units[stated : stated + POINT_SENTENCES]
    cue = _strongest_form(group)
    titled = units[1] if len(units) > 1 and units[0].words <= 2 else units[0]
    shown = _in_its_paragraph(units, sentences) if widen else units
    return Finding(
        post.key,
        tuple(u.text for u in shown),
        make_title(titled.text, cue=cue),
        cue,
        stated=tuple(u.text for u in units) if shown != units else (),
    )


def _in_its_paragraph(units: list[Unit], sentences: tuple[UnitReading, ...]) -> list[Unit]:
    """The point's sentences with the rest of its paragraph around them, up to
    PARAGRAPH_SENTENCES: "I'm not sure about this part." says little without "Flipping a
    default in a minor release is exactly what our upgrade policy says we don't do.",
    and a reader is shown the reasons the writer gave beside a point. Thanks and praise
    at either end ("Thanks for the write-up.") are no part of it."""
    if units[0].item is not None:
        return units
    around = [r for r in sentences if r.unit.point == units[0].point]
    kept = {unit.index for unit in units}
    while around and around[0].unit.index not in kept and _acknowledges(around[0]):
        around.pop(0)
    while around and around[-1].unit.index not in kept and _acknowledges(around[-1]):
        around.pop()
    paragraph = [r.unit for r in around]
    if not all(unit in paragraph for unit in units):
        return units
    if len(paragraph) <= PARAGRAPH_SENTENCES:
        return paragraph
    # A long paragraph: the point, and as many sentences on either side of it (one more
    # after than before, where the reasons usually are) as fit.
    first, last = paragraph.index(units[0]), paragraph.index(units[-1])
    spare = max(0, PARAGRAPH_SENTENCES - (last - first + 1))
    after = min(len(paragraph) - 1 - last, (spare + 1) // 2)
    before = min(first, spare - after)
    after = min(len(paragraph) - 1 - last, spare - before)
    return paragraph[first - before : last + after + 1]


def _acknowledges(reading: UnitReading) -> bool:
    """Thanks or praise, finding no fault: "Thanks Marcus, that matches what I found."."""
    features = reading.features
    return bool(features.get("thanks") or features.get("approval")) and not (
        features.get("contrast") or any(features.get(name) for name in OBJECTION_FORMS)
    )


def _states_fault(reading: UnitReading) -> bool:
    return any(reading.features.get(name, 0.0) > 0 for name in _NAMES_A_FAULT)


def _strongest_form(group: list[UnitReading]) -> str:
    """The cue family that weighed most for the point: what a reader is shown as the why."""
    present = {name for r in group for name, value in r.features.items() if value}
    forms = [name for name in OBJECTION_FORMS if name in present]
    if not forms:
        return "question" if any(r.unit.is_question for r in group) else NO_FORM
    return max(forms, key=lambda name: DEFAULT_MODEL.sentence_weights.get(name, 0.0))


def detect_concerns(
    post: Post,
    context: PostContext | None = None,
    *,
    model: ConcernModel = DEFAULT_MODEL,
    handle: str = DEFAULT_HANDLE,
) -> tuple[Finding, ...]:
    """The distinct points this post raises, each with the sentences that raise it."""
    return findings_of(post, read_post(post, context or PostContext(), model, handle), model)


class ThreadReader:
    """Reads a thread's posts in order with what a reader knows of each: who proposed,
    what the post replies to, whether that asked something. One instance per fold;
    every post's sentences are cut once."""

    def __init__(self, posts: Sequence[Post], settings: LedgerSettings) -> None:
        self.settings = settings
        self.posts = posts
        self.proposers = [p.author for p in posts if opens_proposal(p)] or proposers_by_word(posts)
        self.in_vote = any(parse_subject(p.subject).kind is ThreadKind.VOTE for p in posts[:1])
        self.by_id = {_id_of(p): p for p in posts if _id_of(p)}
        self.proposer_posts = sorted(
            (p.created_at, p.key) for p in posts if self.is_proposer(p.author)
        )
        self._first_from_author = _first_posts_by_author(posts)
        # When each name a post may call a participant by was first signed.
        self._first_named: dict[str, tuple[datetime, str]] = {}
        for post in posts:
            for name in names_for(post.author):
                at = (post.created_at, post.key)
                self._first_named[name] = min(self._first_named.get(name, at), at)
        self.proposer_names = frozenset(
            name for person in self.proposers for name in names_for(person)
        )
        self.participant_names = frozenset(
            name for post in posts for name in names_for(post.author)
        )
        self._units: dict[str, tuple[Unit, ...]] = {}
        self._cues: dict[str, tuple[frozenset[str], ...]] = {}
        self._said_in: dict[str, frozenset[str]] = {}

    def units(self, post: Post) -> tuple[Unit, ...]:
        if post.key not in self._units:
            self._units[post.key] = units_of(post.text, self.settings.handle)
        return self._units[post.key]

    def cues(self, post: Post) -> tuple[frozenset[str], ...]:
        if post.key not in self._cues:
            self._cues[post.key] = tuple(cues_of(unit) for unit in self.units(post))
        return self._cues[post.key]

    def context(self, post: Post) -> PostContext:
        parent = self.by_id.get(_parent_id(post) or "")
        said = self._said(parent) if parent is not None else frozenset()
        proposer = self.is_proposer(post.author)
        reviewing = proposer and self._reviews(post, parent, said)
        review = _REVIEW_COMMENT.search(post.text)
        return PostContext(
            by_proposer=proposer and not reviewing,
            proposer_reviewing=reviewing,
            is_proposal=opens_proposal(post),
            replies_to_proposer=parent is not None and self.is_proposer(parent.author),
            parent_asks="question" in said,
            review_comment=review is not None,
            requests_changes=review is not None
            and (
                review["verdict"] == "requested changes on"
                or bool(_GERRIT_REJECTS.search(review["gerrit"] or ""))
            ),
            in_vote=self.in_vote,
            units=len(self.units(post)),
            parent_proposes=parent is not None
            and not opens_proposal(parent)
            and "counter_proposal" in said,
            parent_objects=bool(said & _OBJECTING),
            quotes_parent=bool(post.quoted),
            first_from_author=post.key in self._first_from_author,
            parent_asks_yes_no="yes_no_question" in said,
            proposer_names=self.proposer_names,
            others_names=self.participant_names - names_for(post.author),
            earlier_names=self._names_before(post) - names_for(post.author),
        )

    def _names_before(self, post: Post) -> frozenset[str]:
        at = (post.created_at, post.key)
        return frozenset(name for name, first in self._first_named.items() if first < at)

    def _reviews(self, post: Post, parent: Post | None, said: frozenset[str]) -> bool:
        """The proposer answering someone else's suggestion is its reviewer: on a wish
        list ("[DISCUSS] Maven 4.0.0 wish list") each reply proposes, and the thread's
        opener weighs it as any reviewer would. Unless they open by taking it up ("I liked
        the idea, and investigated ..."): then the design is theirs, and so are its caveats.

        A suggestion need not be worded as one ("required: every setting in a profile"):
        a reply that opens with an objection ("So one of the issues with that is ...") to
        a post that neither objects nor asks can only be objecting to what that post put
        forward. After an objection or a question, the same words are the proposer's
        answer to it.
        """
        if parent is None or self.is_proposer(parent.author) or self._takes_it_up(post):
            return False
        if self._answers_several(post):
            return False  # answering several people's points at once, not weighing one
        return (
            bool(said & _SUGGESTING)
            or (not said & _OBJECTING and "question" not in said and self._opens_objecting(post))
            or self._reviews_a_suggestion(parent)
        )

    def _answers_several(self, post: Post) -> bool:
        """Whether the post quotes earlier posts of two or more other people ("Let me
        answer in one post": Yusuf's point, then Wen's, then Claire's)."""
        earlier = [
            (other.author, _collapsed(other.text))
            for other in self.posts
            if other.created_at <= post.created_at and other.key != post.key
        ]
        quoted: list[Person] = []
        for block in post.quoted:
            text = _collapsed(_unnested(block))
            if len(text) < 20:
                continue
            quoted.extend(author for author, said in earlier if text in said)
        return len({author.display.casefold() for author in quoted}) >= 2

    def _reviews_a_suggestion(self, review: Post) -> bool:
        """Whether ``review`` answers someone else's suggestion: then its objections and
        questions are aimed at that suggestion, and the proposer writing under them
        ("do you have demos of such packagings?" to a wish; "This feels like plugin
        level functionality") joins the review; there is no proposal of theirs to defend.
        """
        suggestion = self.by_id.get(_parent_id(review) or "")
        return (
            suggestion is not None
            and not self.is_proposer(suggestion.author)
            and not opens_proposal(suggestion)
            and bool(self._said(suggestion) & _SUGGESTING)
        )

    def opening(self, post: Post) -> frozenset[str]:
        """The cue families of the post's first sentence (none for an empty post)."""
        cues = self.cues(post)
        return cues[0] if cues else frozenset()

    def _opens_objecting(self, post: Post) -> bool:
        """Whether the post's first sentence carries an objecting form."""
        return bool(self.opening(post) & _OBJECTING)

    def _takes_it_up(self, post: Post) -> bool:
        """Whether the post opens approving what it answers ("I liked the idea"), saying
        yes to it ("Yes to all three.") or putting it in the document ("I've added them
        to the draft")."""
        if "approval" in self.opening(post):
            return True
        units = self.units(post)
        opening = " ".join(unit.probe for unit in units[:2])
        # The first sentence, or the one opening the second paragraph after a first that
        # only answers a question ("Stays at beta1." / "Fair, and I don't have a complete
        # answer. Two things I can offer: ...").
        openers = [units[0]] if units else []
        if len(units) > 1 and units[1].point != units[0].point and units[0].words <= ANSWER_WORDS:
            openers.append(units[1])
        return bool(units) and (
            any(
                _ASSENT_OPENER.match(unit.probe) is not None
                or _CONCEDES_AT_ONCE.match(unit.probe) is not None
                for unit in openers
            )
            or _CHANGED_DOCUMENT.search(opening) is not None
        )

    def is_proposer(self, person: Person) -> bool:
        return any(_same_author(person, proposer) for proposer in self.proposers)

    def read(self, post: Post) -> PostReading:
        return read_post(
            post,
            self.context(post),
            self.settings.model,
            self.settings.handle,
            self.units(post),
            self.cues(post),
        )

    def _said(self, post: Post) -> frozenset[str]:
        """The cue families anywhere in a post, and "question" if it asks one."""
        if post.key not in self._said_in:
            units = self.units(post)
            found = {name for cues in self.cues(post) for name in cues}
            if any(unit.is_question for unit in units):
                found.add("question")
            if any(asks_yes_or_no(unit) for unit in units):
                found.add("yes_no_question")
            self._said_in[post.key] = frozenset(found)
        return self._said_in[post.key]


def names_for(person: Person) -> frozenset[str]:
    """What a post may call someone, casefolded: "Becket Qin", "Becket", the address's
    local part ("becket.qin", a GitHub login)."""
    plain = _TOOL_TAG.sub("", person.name.strip().strip("'\"")).strip("'\" ")
    names = {plain.casefold(), person.address.partition("@")[0].casefold()}
    if plain.split():
        names.add(plain.split()[0].casefold())
    return frozenset(name for name in names if len(name) > 1)


def _first_posts_by_author(posts: Sequence[Post]) -> frozenset[str]:
    """Keys of the posts with which each participant first speaks in the thread."""
    seen: list[Person] = []
    first: set[str] = set()
    for post in sorted(posts, key=lambda p: (p.created_at, p.key)):
        if not any(_same_author(post.author, person) for person in seen):
            seen.append(post.author)
            first.add(post.key)
    return frozenset(first)


# A patch review's approval: "Reviewed-by: Fergus MacLeod <fergus@...>", "Acked-by: ...".
_REVIEW_TRAILER = re.compile(
    r"^\s*(?:Reviewed|Acked)-by:\s*(?P<name>[^<\n]*?)\s*(?:<(?P<address>[^>\s]+)>)?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def gives_own_trailer(post: Post) -> bool:
    """Whether the post gives its writer's own Reviewed-by or Acked-by: on a list that
    reviews patches, the raiser's trailer on the revised series is their approval, and
    settles what they raised, as an approving review does on GitHub. Only the writer's
    own (by address, else by name): a series carrying someone else's trailer forward
    ("Reviewed-by: Liwei Zhang" in the author's v2) approves nothing of the sender's."""
    author = post.author
    for trailer in _REVIEW_TRAILER.finditer(post.text):
        address = (trailer["address"] or "").casefold()
        if address and author.address:
            if address == author.address.casefold():
                return True
        elif trailer["name"] and _plain_name(trailer["name"]) == _plain_name(author.name):
            return True
    return False


# A paragraph of at most this many words before the proposer's reply turns to the point
# answers a question asked beside it ("Stays at beta1.").
ANSWER_WORDS = 6
_SUGGESTING = frozenset({"wish", "counter_proposal"})
_SECONDING = frozenset({"approval", "seconding"})
_OBJECTING = frozenset({"worry", "objection", "doubt", "negated_belief", "negative_judgement"})


# GitHub's line for a review (or a comment on its lines), and the review's verdict.
_REVIEW_COMMENT = re.compile(
    r"^@[\w-]+ (?P<verdict>commented on|requested changes on) this pull request\."
    # Gerrit's review mail names the patch set and the reviewer's vote on it.
    r"|^Patch Set \d+:(?P<gerrit>.*)$",
    re.MULTILINE,
)
# A Gerrit vote that asks for changes: "Code-Review-1", "Code-Review-2".
_GERRIT_REJECTS = re.compile(r"\bCode-Review-[12]\b")


def thread_readings(
    posts: Iterable[Post], settings: LedgerSettings | None = None
) -> list[tuple[Post, PostReading]]:
    """Every post of a thread with its sentences read in context, as the ledger reads them.

    For measuring and fitting (bench/judgement.py); the ledger itself uses the same reader.
    """
    settings = settings or LedgerSettings()
    ordered = without_shared_senders(sorted(posts, key=lambda p: (p.created_at, p.key)))
    reader = ThreadReader(ordered, settings)
    return [(post, reader.read(post)) for post in ordered if _may_raise(post, settings)]


def _may_raise(post: Post, settings: LedgerSettings) -> bool:
    if opens_proposal(post) or is_automated(post):
        return False
    return not (post.author.address and post.author.address.casefold() in settings.bot_addresses)


# --------------------------------------------------------------------------
# Acceptance: the person who raised a concern settling it
# --------------------------------------------------------------------------

# A -1 of one's own: at the start of a sentence or after a space, never "1-1" or "-1.5".
_MINUS_ONE = re.compile(r"(?:^|[\s(\[])-1(?!\d|\.\d)")
_MINUS_ONE_AS_NOUN = re.compile(r"\b(?:a|an|the|any|your|his|her|their|why|give|cast|no)\s+-1\b")
# "No." opening a reply refuses what it replies to, unless that asked a yes/no question
# ("..., right?", "Is it ...?", "Any objections?"): then "no" just answers it.
_REFUSAL = re.compile(r"^(?:no|nope|nah)\s*[.,:;!]")
_YES_NO_QUESTION = re.compile(
    r"(?:^|[.!?]\s+|\n)\s*(?:(?:so|but|and|then|also|or)\s+)?(?:is|are|am|was|were|do|does|did|can|could|should|would|will|shall|may"
    r"|might|must|has|have|had|any|anyone|anybody|isn't|aren't|don't|doesn't|didn't|won't"
    r"|wouldn't|shouldn't|can't|couldn't)\b[^?.!]*\?"
    r"|\b(?:right|ok|okay|correct|agreed)\s*\?"
)

_ACCEPTS_EXPLICITLY = re.compile(
    r"\b(?:address(?:es)?|answers?|resolves?|resolving|settles?|covers?|allays?)\s+(?:(?:both|all|each)\s+"
    r"(?:of\s+)?)?my\s+(?:\w+\s+)?(?:" + MY_WORRY_NOUNS + r"|thread|comments?|questions?|points?"
    # "The hibernation checkbox covers my use case."
    r"|use\s+cases?|needs)\b"
    r"|\bi\s+withdraw\b|\b(?:withdraw|drop|lift)(?:ing|ping)?\s+my\s+(?:concerns?|objections?|-1|veto)\b"
    # "my worry about maintenance is mostly gone", "both of my points are addressed".
    r"|\bmy\s+(?:\w+\s+)?(?:" + MY_WORRY_NOUNS + r"|points?)\s+"
    r"(?:\w+\s+){0,3}?(?:is|are|has|have|was|were)\s+(?:\w+\s+)?(?:addressed|resolved|answered|gone)\b"
    # "Thanks, with that patch my main worry goes away."
    r"|"
    + WORRY_GOES_AWAY
    + r"|\bno\s+longer\s+(?:concerned|worried)\b|\bchange\s+my\s+vote\s+to\s+\+1\b"
    r"|\b(?:didn't|did\s+not|don't|do\s+not)\s+mean[t]?\s+to\s+(?:argue|object|block|oppose)\b"
    # "Thanks, that answers the security question.", "That solves my problem, thanks!",
    # "So please ignore my point 2."
    r"|\b(?:that|this|it)\s+(?:answers|solves|settles)\s+(?:the|my)\s+(?:\w+\s+)?(?:question|problem"
    r"|concern|worry|point)\b|\bignore\s+my\s+(?:\w+\s+)?points?\b"
)

# "Thanks for the clarification": accepts in a reply that says no more; opening a reply
# that argues on, it accepts nothing (_opens_accepting).
_THANKS_FOR_EXPLAINING = (
    r"\bthanks?\s+(?:\w+\s+)?for\s+(?:the|your|this)\s+(?:clarification|explanation|clarifying"
    r"|explaining)\b"
)
_ACCEPTS = re.compile(
    r"\bfair\s+enough\b|\bmakes\s+sense\s+now\b|\b(?:that|this)\s+makes\s+sense\b"
    r"|\byou(?:'ve|\s+have)?\s+convinced\s+me\b"
    r"|\bi\s+can\s+live\s+with\s+(?:that|this|it)\b"
    # "If it's under the output base now, no problem from my side."
    r"|\bno\s+problem\s+(?:from|on)\s+(?:my|our)\s+(?:side|end|part)\b|\b(?:ok|okay|fine)\s+from\s+me\b"
    # "Scoping it to desktop works for me", "with the cache that works for us".
    r"|(?<!not\s)(?<!n't\s)\bworks\s+(?:fine\s+|well\s+)?for\s+(?:me|us)\b"
    # "With opt-in, I'm +1", "those numbers convince me".
    r"|\bi(?:'m|\s+am)\s+(?:now\s+)?\+1\b(?![^.]*\bbut\b)|\b(?:convinces?|convinced)\s+me\b"
    # A reply to the answer that begins "Works for me." or ends "All good.", "No
    # objection then."; and owning the misreading: "Ah, I missed that part".
    r"|(?:^|[.!]\s+)works\s+for\s+me\b|(?<!not\s)\ball\s+good\b"
    r"|\bno\s+(?:more\s+|further\s+)?objections?\s+(?:then|from\s+(?:me|us)|any\s*more)\b"
    # "one year is OK for us", "Fine then.", "LGTM now.", "I accept there's no way around
    # that", "Ignore me.", "I'm happy on that one", "I can live with the break."
    r"|\b(?:is|are|seems|sounds)\s+(?:also\s+|perfectly\s+|totally\s+|still\s+)?(?:ok|okay|fine"
    r"|acceptable)\s+for\s+(?:me|us)\b"
    r"|(?:^|[.!]\s+)(?:fine|ok|okay)\s+then\b|\blgtm\b(?![^.]*\bbut\b)"
    r"|\bi\s+accept\s+(?:that|there|the|it|this)\b|(?:^|[.!]\s+)ignore\s+me\b"
    r"|\bi(?:'m|\s+am)\s+happy\s+(?:on|with)\s+that\s+one\b|\bi\s+can\s+live\s+with\s+the\s+\w+"
    r"|\bi\s+(?:must\s+have\s+|had\s+|somehow\s+)?(?:missed|overlooked|misread|misunderstood)\s+"
    r"(?:that|this|it)\b"
    r"|\bi(?:'m|\s+am)\s+(?:very\s+|quite\s+|perfectly\s+)?(?:fine|ok|okay|happy)\s+with\s+(?:that|this|it)\b"
    # Conceding: "good enough for alpha", "my bad", "thanks for the clarification".
    r"|\b(?:good|fine)\s+enough\s+for\b"
    r"|\bi\s+(?:do\s+not|don't)\s+(?:really\s+)?object\b"
    r"|"
    + _THANKS_FOR_EXPLAINING
    + r"|\b(?:sounds|seems)\s+(?:reasonable|fine|good|ok|okay)\s+to\s+me\b"
    # "the ABI answer is fine by me", "Consider me on board", "That's what we needed",
    # "That rule is what I was hoping for", "That settles it for me", "has no objection to v2".
    r"|\b(?:is|are|sounds|seems)\s+(?:\w+\s+)?fine\s+(?:by|with)\s+(?:me|us)\b"
    r"|\b(?:address(?:es)?|answers?|covers?|takes?\s+care\s+of|handles?)\s+(?:(?:most|all|much)\s+of\s+)?"
    r"what\s+(?:i|we)\s+(?:was|were)\s+(?:worried|concerned)\s+about\b"
    r"|\b(?:consider\s+me|count\s+me|i'?m|i\s+am|we'?re|we\s+are)\s+(?:now\s+)?on\s+board\b"
    r"|\bwhat\s+(?:i|we)\s+(?:wanted|needed|need|was\s+after|were\s+after|was\s+hoping\s+for|were\s+hoping\s+for|had\s+in\s+mind"
    r"|asked\s+for|(?:was|were)\s+asking\s+for)\b|\ball\s+(?:i|we)\s+(?:wanted|needed|asked\s+for)\b|\b(?:looks?|seems?)\s+right\s+to\s+me\b|\b(?:that|this)\s+settles\s+it\b|\b(?:has|have)\s+no\s+(?:further\s+)?objections?"
    r"\s+to\b"
    # "With speed out of the motivation I have no objection.", "Withdrawn.", "Looks good.",
    # "18 would work for us", "I'm fine on that point", "it is OK for our plugin".
    r"|\bi\s+have\s+no\s+(?:further\s+|more\s+)?objections?\s*(?:[.!]|$)|(?:^|[.!]\s+)withdrawn\b"
    r"|(?:^|[.!]\s+)looks?\s+good\b(?![^.]*\bbut\b)|\bwould\s+work\s+for\s+(?:me|us)\b"
    r"|\bi(?:'m|\s+am)\s+fine\s+on\s+(?:that|this)\s+(?:point|one|part)\b"
    r"|\b(?:is|are)\s+(?:ok|okay|fine)\s+for\s+our\s+\w+"
    # "Separate limiter covers it, thanks", "That covers it for me", "that's what I had in
    # mind", "if infra is happy with the storage, so am I".
    r"|\b(?:that|this|it|which)\s+covers\s+it\b|(?:^|[.!]\s+)\w+(?:\s+\w+)?\s+covers\s+it\b"
    r"|\bthat'?s\s+(?:exactly\s+)?what\s+i\s+had\s+in\s+mind\b"
    r"|\bhappy\s+with\s+[^.;]{1,40},\s+so\s+am\s+i\b"
    # "12 months of 0.24 security fixes is more than I expected", "the numbers reassured
    # me more than I expected". ("About 25 of the 41 are awkward, which is more than I
    # expected" counts something.)
    r"|(?<!which\s)\b(?:is|are|was|were|reassured\s+(?:me|us))\s+(?:far\s+|much\s+)?(?:more|better)"
    r"\s+than\s+(?:i|we)\s+(?:expected|hoped\s+for|asked\s+for|was\s+hoping\s+for)\b"
)

# "OK, done: <link>" reports a task the writer did; it accepts nothing about a concern.
_ASSENT_OPENER = re.compile(
    r"^(?:yes|yep|agreed|good\s+point|sounds\s+(?:good|reasonable|fine)|convinced|ok|okay|sure"
    r"|(?:ah|oh)\s+(?:i\s+see|ok|okay|right))\b(?![^.]*\bbut\b)(?![\s,!]*(?:done|did\s+it)\b)"
)

# An answer that opens by granting the point: "Fair, I was thinking of JDK 11+.", "Good
# catch.", "You're right that ...".
_CONCEDES_AT_ONCE = re.compile(
    r"^(?:fair(?:\s+(?:point|enough|criticism))?|good\s+(?:catch|point)|valid\s+point"
    r"|you(?:'re|\s+are)\s+right)\b(?![^.]*\bbut\b)"
)

# Owning the mistake: "ah sorry, my bad. having a number here makes sense." settles the
# point it answers even when the post goes on to ask something new.
_CONCEDES = re.compile(
    r"\bmy\s+bad\b|\bi\s+(?:don't|do\s+not)\s+(?:even\s+)?claim\s+(?:it|this|that)(?:'s|\s+is)\s+(?:a\s+)?"
    r"(?:viable|good|great|workable)\b|\bi\s+was\s+(?:wrong|mistaken|just\s+paranoid)\b|\bi\s+stand\s+corrected\b"
)

_PLUS_ONE = re.compile(r"(?:^|\n)\s*\+1\b")
# What keeps an accepting sentence from settling anything: "Fine, but ...", "I still ...".
_HOLDS_BACK = re.compile(r"\b(?:but|however|still|although|though|except|unless)\b")
# (Not _STILL: that one, above, also reads "remains" and "stays" in a ballot said again.)
_STILL_AFTER = re.compile(r"\bstill\b")
_THANKS_FOR_EXPLAINING_RE = re.compile(_THANKS_FOR_EXPLAINING)
# The proposer committing to a change in answer to a point: "Will change.", "I'll add it".
_COMMITS = (
    r"\b(?:i|we)(?:'m|\s+am|\s+are)\s+(?:ok|okay|fine|happy)\s+to\s+(?:add|change|update|drop"
    r"|remove|use|switch|do)\b|\b(?:i|we)(?:'m|\s+am|'re|\s+are)\s+going\s+to\s+(?:\w+\s+){0,4}?"
    r"(?:amend|update|change|add|fix|drop|remove)\b|^will\s+(?:do|change|fix|update|add|re-?roll)\b"
    r"|\bre-?roll\b|^(?:yes|yeah|yep|right)\b[,.!]?\s+(?:we|i)\s+(?:should|will|can|'ll)\s+(?:\w+\s+)?"
    r"(?:add|change|update|fix|drop|remove|follow|do)\b"
    r"|\b(?:i|we)(?:'ve|\s+have)?\s+(?:just\s+|now\s+)?(?:updated|changed|added|removed|fixed|amended"
    r"|adjusted|incorporated|reworded|clarified|addressed|switched|lowered|raised|renamed)\b"
    r"|^(?:updated|done|fixed|addressed)\b"
    # "Happy to add PASSWORD_UPGRADE_ON_LOGIN and a release note."
    r"|^(?:happy|glad)\s+to\s+(?:add|change|update|drop|remove|switch|do|document|clarify)\b"
    r"|\b(?:i|we)(?:'ll|\s+will)\s+(?:\w+\s+)?(?:add|update|change|fix|remove|amend|clarify|reword"
    r"|incorporate|adjust|work)\b|\bwill\s+do\b"
)
# The proposer taking a point up, in the first sentences of their answer: agreeing with
# it, or committing to a change.
_ADOPTS = re.compile(
    r"\b(?:good|fair|valid|great)\s+(?:point|catch|idea|suggestion|criticism)\b|\bfair\s+enough\b"
    r"|\byou(?:'re|\s+are)\s+(?:right|correct)\b|\bmakes?\s+sense\b|\bagreed\b"
    r"|\bi\s+(?:completely\s+|fully\s+|totally\s+|absolutely\s+|also\s+|do\s+)?agree\b"
    r"|(?:^|\n)\s*\+1\s+(?:on|for|to)\b"
    rf"|{_COMMITS}"
    r"|\bthanks?\s+(?:\w+\s+)?for\s+(?:the|your)\s+(?:catch|suggestion|feedback|point|input)\b"
    r"|\b(?:sounds|seems)\s+(?:reasonable|good|fine)\s+to\s+me\b"
    # Giving in to a decision against the proposal: "@aturon That's a shame :(".
    r"|\b(?:that's|that\s+is|what)\s+a\s+(?:shame|pity)\b|\boh\s+well\b"
    # The proposal says so already: "Yes as mentioned [here](...)".
    r"|^(?:yes|yeah|yep|right)\b[,.]?\s+(?:as\s+(?:already\s+)?(?:mentioned|stated|described|noted)"
    r"|(?:it|this|that)\s+is\s+already\s+(?:mentioned|stated|described|covered|there))\b"
    # Conceding it outright: "Fair. I was too eager with patch 3.", "Point taken."
    r"|^point\s+taken\b|\bi\s+was\s+(?:a\s+bit\s+)?too\s+(?:eager|hasty|quick|aggressive)\b"
    # Conceding the fault: "Yeah, that does seem fuzzy in retrospect."
    r"|^(?:yes|yeah|yep|true|indeed)\b[,.]?\s+(?:that|it|this)\s+(?:does\s+)?(?:seems?|looks?|is)\s+"
    r"(?:\w+\s+){0,2}?(?:fuzzy|unclear|confusing|vague|wrong|ambiguous|awkward|a\s+problem"
    r"|an\s+issue)\b|\bin\s+(?:retrospect|hindsight)\b"
)
_COMMITS_TO_CHANGE = re.compile(_COMMITS)
# Anyone answering a point by changing the proposal's text takes it up.
_CHANGED_DOCUMENT = re.compile(
    r"\b(?:i|we)(?:'ve|\s+have)?\s+(?:just\s+|now\s+)?(?:updated|changed|added|amended|adjusted"
    r"|reworded|clarified|incorporated|rewritten|addressed)\s+(?:\w+\s+){0,3}?(?:the|that|this|it|your"
    r"|an?\s+(?:[\w\"'“”-]+\s+){0,3}?section)\b"
    # "It's spelled out in the doc now", "That is covered in the RFC now".
    r"|\b(?:it|this|that)(?:'s|\s+is)\s+(?:now\s+)?(?:spelled\s+out|described|covered|documented"
    r"|written\s+(?:up|down))\s+in\s+the\s+(?:doc(?:ument)?|rfc|proposal|text|kep|flip|kip)\b"
    r"|^(?:updated|done|fixed)\b|\bi\s+will\s+add\s+(?:\w+\s+){0,4}to\s+the\b"
    r"|\bas\s+(?:you\s+)?suggested,?\s+(?:i|we)(?:'ve|\s+have)?\s+(?:just\s+)?(?:added|changed|updated"
    r"|removed|renamed|moved)\b"
    r"|\b(?:i|we)(?:'ve|\s+have)?\s+(?:reconsidered|revised|reworked)\s+(?:the|my|our)\s+(?:\w+\s+)?"
    r"(?:design|proposal|approach|rfc|plan)\b"
    # An item of a list of changes put to the raiser, its subject left out: "@Jisoo added
    # section "Rollback".", "Priya: moved the check to the nightly job."
    r"|^@?[\w.-]+(?:\s+[\w.-]+)?[,:]?\s+(?:added|updated|changed|dropped|removed|moved|rewrote"
    r"|reworded|clarified|documented|extended|renamed)\s+(?:the\s+|a\s+|an\s+)?(?:new\s+)?(?:section"
    r"|paragraph|note|check|test|job|option|flag|table|example)\b"
)
# The proposer agreeing outright with the raiser settles it, however long the answer.
_AGREES_OUTRIGHT = re.compile(
    r"\bi\s+(?:completely\s+|fully\s+|totally\s+|entirely\s+)?agree\s+(?:with\s+(?:you|everything"
    r"|all\s+of\s+(?:this|that|it)|your\s+(?:point|concern|assessment|argument|reasoning|analysis))"
    r"|100\s*%)\b"
    r"|\byou\s+(?:have|make|raise)\s+a\s+(?:good\s+|valid\s+|fair\s+)?point\b"
    r"|\byou(?:'re|\s+are)\s+(?:absolutely\s+|completely\s+)?right\b|\beverything\s+you\s+(?:say|said|mention(?:ed)?|wrote|write)\s+makes\s+(?:a\s+lot\s+of"
    r"\s+|perfect\s+|total\s+)?sense\b"
)
# ... unless they argue back: "Good point, but ...", "I don't think so".
# ... and "does that address your concern?" leaves the verdict to who raised it.
_REBUTS = re.compile(
    r"\bbut\s+(?:i|we|it|this|that)\b(?!(?:'m|\s+am|\s+are|'re)\s+(?:ok|okay|fine|happy)\s+(?:to|with)\b)|\bhowever\b|\bi\s+(?:don't|do\s+not)\s+(?:think|agree|see)\b"
    r"|^(?:no|nope)\b|\b(?:does|would|will|is)\s+(?:that|this|it)\s+(?:\w+\s+)?(?:address|answer"
    r"|solve|settle|resolve|work|help|ok|okay|enough)\b[^.]*\?"
)


# --------------------------------------------------------------------------
# Titles and ids
# --------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_LEAD_INS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^[(\[\"']+",
        r"^(?:\d{1,2}[.)]|[-*•+]|\(?[a-z]\))\s+",
        r"^(?:but|and|so|also|however|well|honestly|frankly|to\s+be\s+honest|imho|imo|in\s+summary"
        r"|reaction|then|ok|okay|no|nope)\b[,:.]?\s+",
        r"^-1\b[,:.]?\s*(?:(?:from\s+me|because|since|as)\b[,:]?\s*)?",
        rf"^(?:i|we)(?:'m|'re|\s+am|\s+are)\s+(?:\w+\s+){{0,2}}?(?:{_FEELING})\s*(?:that|about|by|with|of)?\s+",
        rf"^my\s+(?:\w+\s+)?(?:{_WORRY_NOUN}|issue|problem)\s+(?:is|are|was|here\s+is)\s+(?:that\s+)?",
        r"^(?:the|one|another)\s+(?:\w+\s+)?(?:concern|worry|fear|issue|problem|risk|downside|drawback)s?"
        r"\s+(?:i\s+see\s+|i\s+have\s+)?(?:with\s+(?:this|that|it)\s+)?(?:is|are|here\s+is)\s+(?:that\s+)?",
        rf"^(?:i|we)\s+(?:still\s+|also\s+)?(?:have|had)\s+(?:\w+\s+){{0,3}}?(?:{_WORRY_NOUN})\s*"
        r"(?:about|with|for|on|regarding)?\s*:?\s*",
        r"^(?:i|we)\s+(?:really\s+|also\s+|still\s+)?(?:worry|fear|doubt)\s+(?:that\s+|about\s+)?",
        r"^(?:keep|bear)\s+in\s+mind\s*,?\s*(?:that\s+)?",
        r"^consider\s+that\s+",
        r"^i\s+hope\s+you(?:'re|\s+are)\s+aware\s+(?:that\s+)?",
        r"^(?:and\s+)?(?:also\s+)?(?:whether|if)\s+(?:or\s+not\s+)?",
        r"^\w+\s*,\s*but\s+",
        r"^as\s+\w+\s+(?:suggested|said|proposed|wrote|mentioned)\b[.,:]*\s*",
        r"^(?:so\s+)?one\s+of\s+the\s+(?:\w+\s+)?(?:problems|issues|risks|downsides|drawbacks|concerns)"
        r"\s+(?:with\s+(?:this|that|it)\s+)?(?:is|are)\s+(?:that\s+)?",
        r"^(?:we\s+)?(?:should|need\s+to|must|have\s+to|ought\s+to)\s+(?:\w+\s+)?(?:think\s+about"
        r"|consider|reconsider|question|ask\s+ourselves)\s+(?:whether|if)\s+(?:or\s+not\s+)?",
        r"^i\s+(?:really\s+|just\s+)?(?:do\s+not|don't)\s+like\s+(?:it|this|that)\b[:,.]?\s*",
    )
)
# Cues that take a "that" clause naming the point ("I worry that X"); in "the issue with
# that is X", "that" points back instead.
_COMPLEMENT_CUES = ("worry", "doubt", "caution")
_AGREEING_HEAD = re.compile(
    r"^[^,.;]{0,60}\b(?:like|love|agree|support|appreciate|good|great|nice|interesting|fine|sense"
    r"|valid|feasible)\b[^,.;]{0,30},\s*but\s+"
)
# Trimmed from the end of a cut-short title: words that only lead into what was cut.
_DANGLING = _word_set(
    """a an the of to in on at for with and or but that which who whose is are be been we it this
    by as its their his her our my your you when where while if because so than"""
)
_CLAUSE_END = re.compile(
    r"\s*(?::\s|;\s|\s[-–—]\s|\.\.+\s|\.\s|\(|,\s+(?:but|because|since|and|so|which)\s)"
)
_STOPWORDS = _word_set(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either else
    even ever few for from further had has have having he her here hers him his how i if in into
    is it its itself just me more most my no nor not now of off on once only or other our ours
    out over own same she should so some such than that the their theirs them then there these
    they this those through to too under until up very was we were what when where which while
    who whom why will with would you your yours i'm i've i'd we're it's don't doesn't can't
    won't isn't aren't that's there's let's one tho though still really maybe perhaps say
    said think thought guess like well yes ok okay sure something anything get got make made
    much many way thing things need needs use used using"""
)
# The words cues are made of: two different worries share "worry", not a topic.
_CUE_WORDS = _word_set(
    """concern concerns concerned worry worries worried fear fears doubt doubts issue issues
    problem problems risk risks objection objections afraid unclear weird strange odd see fan
    sure convinced scope mind consider aware point objective question"""
)


_EMPHASIS = re.compile(r"\*\*")


def make_title(sentence: str, max_words: int = TITLE_WORDS, *, cue: str = "") -> str:
    """A short label from a sentence: lead-in phrases dropped, first clause, ≤ max_words."""
    # Markdown's emphasis marks are markup, not words ("**Native plugin ABI.**").
    text = re.sub(r"\s+", " ", _EMPHASIS.sub("", sentence.replace("’", "'"))).strip()
    original = text
    text = _complement(text, cue)
    changed = True
    while changed:
        changed = False
        for pattern in _LEAD_INS:
            stripped = pattern.sub("", text, count=1)
            if stripped != text and stripped.strip():
                text, changed = stripped.strip(), True
    clause = _CLAUSE_END.split(text, maxsplit=1)[0]
    if len(clause.split()) >= 3:
        text = clause
    words = text.split()
    if len(words) < 2:
        words = original.split()
    question = text.rstrip().endswith("?") and len(words) <= max_words
    if len(words) > max_words:
        words = words[:max_words]
        while len(words) > 2 and words[-1].casefold().strip(",.;:!?") in _DANGLING:
            words.pop()
    title = " ".join(words).rstrip(",.;:!-–— ")
    if question and not title.endswith("?"):
        title += "?"
    return title[:1].upper() + title[1:]


def _complement(text: str, cue: str) -> str:
    """What the cue is about: "weird to me that X" is about X; "interesting, but I think X", X."""
    lowered = text.lower()
    if len(lowered) != len(text):
        return text
    # "I like the direction, but I am concerned that X": the point comes after the "but".
    agreeing = _AGREEING_HEAD.match(lowered)
    if agreeing is not None and agreeing.end() < len(text):
        text, lowered = text[agreeing.end() :], lowered[agreeing.end() :]
    found = next(
        (
            m
            for m in (CUES[name].search(lowered) for name in _COMPLEMENT_CUES)
            if m and m.start() < 12
        ),
        None,
    )
    if found is None:
        return text
    start = found.end()
    if not found.group(0).endswith("that"):
        after = re.match(r"\s*,?\s*that\s+", lowered[start:])
        if after is None:
            return text
        start += after.end()
    rest = text[start:].lstrip()
    return rest if len(rest.split()) >= 3 else text


def slugify(text: str, max_words: int = 6, max_length: int = 48) -> str:
    ascii_text = _ascii(text).casefold()
    words = re.findall(r"[a-z0-9]+", ascii_text)[:max_words]
    slug = "-".join(words)[:max_length].strip("-")
    return slug or "concern"


def unique_id(base: str, taken: Iterable[str]) -> str:
    existing = set(taken)
    if base not in existing:
        return base
    number = 2
    while f"{base}-{number}" in existing:
        number += 1
    return f"{base}-{number}"


# --------------------------------------------------------------------------
# Same point, same topic
# --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def topic_words(text: str, ignore: frozenset[str] = frozenset()) -> frozenset[str]:
    """Content words, crudely stemmed: what two sentences must share to be on one topic."""
    words: set[str] = set()
    for token in re.findall(r"[a-z0-9]+(?:\.[a-z0-9]+)*", _ascii(_probe(text))):
        if token in _STOPWORDS or token in _CUE_WORDS or token in ignore:
            continue
        if len(token) < 3 and not any(ch.isdigit() for ch in token):
            continue
        if token.isdigit() and len(token) < 2:
            continue
        words.add(_stem(token))
    return frozenset(words) - ignore - _CUE_WORDS


def same_topic(
    one: str,
    other: str,
    ignore: frozenset[str] = frozenset(),
    share: float = 0.3,
    share_of_longer: float = 0.0,
) -> bool:
    """At least two shared content words, ``share`` of the shorter text's and
    ``share_of_longer`` of the longer one's."""
    first, second = topic_words(one, ignore), topic_words(other, ignore)
    if not first or not second:
        return False
    shared = len(first & second)
    shorter, longer = sorted((len(first), len(second)))
    return shared >= 2 and shared / shorter >= share and shared / longer >= share_of_longer


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ings", "ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=1024)
def _ascii(text: str) -> str:
    # Cached: the ledger asks for a post's folded text once per open concern (whom it
    # addresses), and a thread of thousands of posts has hundreds of concerns.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --------------------------------------------------------------------------
# Concerns the optional extractor proposed
# --------------------------------------------------------------------------


def merge_proposed(
    post: Post, findings: tuple[Finding, ...], proposed: Iterable[Proposed]
) -> tuple[Finding, ...]:
    """The cues' findings of a post, then each proposal that adds a sentence none has.

    The same sentence is one concern: a proposal sharing a sentence with a cue
    finding (or with an earlier proposal) adds nothing. What is left is a finding
    like any other, answered and resolved by the same rules.
    """
    taken = {sentence for finding in findings for sentence in finding.sentences}
    merged = list(findings)
    for proposal in proposed:
        if not proposal.sentences or taken.intersection(proposal.sentences):
            continue
        taken.update(proposal.sentences)
        title = make_title(proposal.title or proposal.sentences[0])
        merged.append(
            Finding(post.key, proposal.sentences, title, EXTRACTED_CUE, ConcernSource.EXTRACTED)
        )
    return tuple(merged)


# --------------------------------------------------------------------------
# The ledger
# --------------------------------------------------------------------------


def build_ledger(
    thread: str,
    posts: Iterable[Post],
    now: datetime,
    settings: LedgerSettings | None = None,
    *,
    proposed: Mapping[str, Sequence[Proposed]] | None = None,
) -> Ledger:
    """Fold a thread's posts, in date order, into its concerns as of ``now``.

    The thread's root, when it proposes something, is read for commands but
    not for prose concerns: a proposer's own caveats are not objections to the
    proposal. When the root is missing (a bot usually joins a discussion late)
    nobody is the proposer and every post may raise concerns. Posts dated
    after ``now`` are not seen yet.

    ``proposed`` (by post key) are the optional extractor's checked proposals:
    each becomes a finding of its post besides the cues' (:func:`merge_proposed`).
    """
    settings = settings or LedgerSettings()
    ordered = without_shared_senders(
        sorted((p for p in posts if p.created_at <= now), key=lambda p: (p.created_at, p.key))
    )
    subject = parse_subject(ordered[0].subject).topic if ordered else ""
    work = _Work(thread, settings, topic_words(subject), ThreadReader(ordered, settings))
    work.proposed = proposed or {}
    for post in ordered:
        work.add(post)
    return Ledger(
        thread=thread,
        now=now,
        concerns=tuple(work.concerns.values()),
        actions=tuple(work.actions),
        commands=tuple(work.commands),
        errors=tuple(work.errors),
    )


@dataclass
class _Work:
    """The fold's working state; local to one build_ledger call, never shared."""

    thread: str
    settings: LedgerSettings
    subject_words: frozenset[str]
    reader: ThreadReader
    concerns: dict[str, Concern] = field(default_factory=dict)
    raised_in: dict[str, set[str]] = field(default_factory=dict)
    answers_in: dict[str, set[str]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    posts_by_key: dict[str, Post] = field(default_factory=dict)
    # When each author (by address, else name) last posted: (created_at, key).
    last_spoke: dict[str, tuple[datetime, str]] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    errors: list[CommandError] = field(default_factory=list)
    proposed: Mapping[str, Sequence[Proposed]] = field(default_factory=dict)

    def add(self, post: Post) -> None:
        # Commit mails, CI notices, bots and auto-replies raise nothing and answer nothing.
        if not (is_automated(post) or self._is_bot(post.author)):
            parent = self._parent(post)
            self._apply_commands(post)
            self._mark_answers(post, parent)
            self._apply_summary(post)
            findings = (
                ()
                if opens_proposal(post)
                else findings_of(post, self.reader.read(post), self.settings.model)
            )
            if post.key in self.proposed and not opens_proposal(post):
                findings = merge_proposed(post, findings, self.proposed[post.key])
            self._apply_acceptance(post, raises_new=bool(findings))
            self._argues_on(post)
            self._record_findings(post, parent, findings)
        if _id_of(post):
            self.posts[_id_of(post) or ""] = post
        self.posts_by_key[post.key] = post
        self.last_spoke[post.author.voice] = (post.created_at, post.key)

    # -- threading ----------------------------------------------------------------

    def _parent(self, post: Post) -> Post | None:
        return self.posts.get(_parent_id(post) or "")

    def _replies_to_the_opening(self, post: Post) -> bool:
        """Whether the post replies to nothing but the thread's opening post."""
        parent = self._parent(post)
        return parent is None or is_root(parent)

    def _opens_accepting(self, post: Post) -> bool:
        """Whether the post's first sentence accepts ("Thanks, that works for me."), with
        no "but" in it and no "still" after it. Thanks for an explanation accept nothing
        here: "Thanks for the explanation. I still don't see why ..." goes on arguing."""
        units = self.reader.units(post)
        if not units:
            return False
        first, rest = units[0].probe, " ".join(unit.probe for unit in units[1:])
        return (
            bool(_ACCEPTS.search(first))
            and not _THANKS_FOR_EXPLAINING_RE.search(first)
            and not _HOLDS_BACK.search(first)
            and not _STILL_AFTER.search(rest)
        )

    def _replies_to_proposer(self, post: Post) -> bool:
        """Whether the post replies to a later post (not the opening) of a proposer."""
        parent = self._parent(post)
        return (
            parent is not None
            and not is_root(parent)
            and any(self._speaks_as(parent, person) for person in self.reader.proposers)
        )

    def _on_topic(self, post: Post, concerns: list[Concern]) -> list[Concern]:
        """The concerns the post's own words are about, or the one concern there is."""
        said = prose(post.text)
        about = [c for c in concerns if same_topic(said, c.text, self.subject_words)]
        return about or (concerns if len(concerns) == 1 else [])

    def _ancestors(self, post: Post, hops: int = 2) -> set[str]:
        """Message-IDs up to ``hops`` replies above: "Yes, this" may follow a +1 in between."""
        found: set[str] = set()
        current: Post | None = post
        for _ in range(hops):
            parent_id = _parent_id(current) if current else None
            if not parent_id:
                break
            found.add(parent_id)
            current = self.posts.get(parent_id)
        return found

    def _is_bot(self, person: Person) -> bool:
        return bool(person.address) and person.address.casefold() in {
            a.casefold() for a in self.settings.bot_addresses
        }

    # -- commands -----------------------------------------------------------------

    def _apply_commands(self, post: Post) -> None:
        handle = self.settings.handle
        for parsed in parse_commands(post, handle):
            if isinstance(parsed, CommandError):
                self.errors.append(parsed)
                self.actions.append(error_reply(parsed, handle))
            elif parsed.verb is Verb.HELP:
                self.actions.append(help_reply(parsed, handle))
            elif parsed.verb is Verb.CONCERN:
                self._raise_by_command(post, parsed)
            else:
                self._run_command(post, parsed)
        for foreign in parse_foreign_commands(post, handle):
            if foreign.verb is Verb.CONCERN:
                self._raise_by_command(post, foreign, answer=False)
            else:
                self._run_command(post, foreign, answer=False)

    def _raise_by_command(self, post: Post, command: Command, *, answer: bool = True) -> None:
        """``answer=False`` for another bot's command: read it, never reply to it."""
        name = command.name or ""
        existing = self.concerns.get(name)
        if existing is not None:
            if not answer:
                return
            reason = (
                f"a concern named {name!r} already exists in this thread"
                f" (raised by {existing.raised_by.display}); pick another NAME"
            )
            self.actions.append(refusal_reply(command, reason))
            return
        self._add(
            post,
            name,
            Finding(
                post.key,
                (command.text,),
                make_title(command.text),
                "command",
                ConcernSource.COMMAND,
            ),
        )
        self.commands.append(command)

    def _run_command(self, post: Post, command: Command, *, answer: bool = True) -> None:
        concern = self.concerns.get(command.name or "")
        verdict = authorize(
            command,
            post.author,
            concern,
            self.settings.maintainers,
            self.settings.resolvers,
            people=self.settings.people,
            post=post,
        )
        if not verdict.allowed:
            if answer:
                self.actions.append(refusal_reply(command, verdict.reason))
            return
        if command.verb in (Verb.HOLD, Verb.UNHOLD) or concern is None:
            if answer:
                self.commands.append(command)  # holds belong to the RFC lifecycle, not here
            return
        if concern.settled:
            if answer:
                reason = f"{concern.id!r} is already {concern.state.value}"
                self.actions.append(refusal_reply(command, reason))
            return
        if command.verb is Verb.WITHDRAW:
            updated = replace(concern, state=ConcernState.WITHDRAWN, withdrawn_by=PostRef.of(post))
        else:
            updated = replace(
                concern,
                state=ConcernState.RESOLVED,
                resolved_by=PostRef.of(post),
                resolution="command",
            )
        self.concerns[concern.id] = updated
        self.commands.append(command)

    # -- answers and acceptance ----------------------------------------------------

    def _mark_answers(self, post: Post, parent: Post | None) -> None:
        parent_id = _parent_id(post)
        by_proposer = self.reader.is_proposer(post.author)
        answered: list[Concern] = []
        # Whom the post addresses, asked once per raiser rather than once per concern.
        addressed: dict[Person, bool] = {}
        answered_quotes = quotes_answered(post, self.reader.units(post))
        # "I support this, ..." or "+1" to a post that raised concerns seconds them, and
        # "Thanks!" acknowledges them: neither answers one, whatever it quotes (the
        # proposer's "Agreed" takes them up, and does).
        if self._only_thanks(post):
            return
        seconds = not by_proposer and self._opens_seconding(post)
        # ... unless it goes on: "+1, the concern is addressed in rc2 because ..." answers.
        only_seconds = seconds and len(self.reader.cues(post)) <= SECONDING_SENTENCES
        # An inline reply shows what it answers by what it quotes (below); a reply written
        # above the old mail answers all of it, however much it kept.
        inline = bool(_direct_quotes(post)) and not _top_posted(post)
        put_to: dict[str, bool] = {}
        for concern in list(self.concerns.values()):
            if concern.settled or _same_author(post.author, concern.raised_by):
                continue
            # Agreeing with a concern seconds it; agreeing with a concern about one's own
            # idea ("Sounds reasonable to me") concedes it (below).
            if only_seconds and not self._objects_to_idea_of(concern, post):
                continue
            replies = parent_id is not None and parent_id in self.raised_in[concern.id]
            quotes = _quotes(post, concern)
            # An inline reply that quotes other parts of the message and not this concern
            # is answering those.
            replies = replies and (quotes or not inline) and not seconds
            turn = (by_proposer and self._proposer_turn(post, concern)) or self._addressee_turn(
                post, concern, put_to
            )
            same_hunk = _same_review_hunk(post, self.posts_by_key.get(concern.post))
            if concern.raised_by not in addressed:
                addressed[concern.raised_by] = _addresses(post, concern.raised_by)
            # Written right under a quote of it, even one quoted from an older mail.
            under = not quotes and any(_holds(concern, (b,)) for b in answered_quotes)
            # The proposer answering several people in one mail quotes a line of each
            # one's mail, not always the concern's own sentence: "> With this design, once
            # a node has started on the new version ..." then the answer.
            their_mail = by_proposer and self._quotes_mail_of(post, concern)
            if (
                replies
                or quotes
                or under
                or turn
                or same_hunk
                or their_mail
                or addressed[concern.raised_by]
            ):
                updated = replace(
                    concern,
                    state=ConcernState.ANSWERED,
                    answered_by=(*concern.answered_by, PostRef.of(post)),
                )
                self.concerns[concern.id] = updated
                answered.append(updated)
                if _id_of(post):
                    self.answers_in[concern.id].add(_id_of(post) or "")
        if answered and self._vouched(post):
            if any(self._speaks_as(post, person) for person in self.reader.proposers):
                self._apply_adoption(post, answered, by_proposer=True)
                return
            # Whose idea a concern objects to may concede it, as the proposer would:
            # on a wish list, "Hmmm sure." from the one who suggested it.
            owned = [c for c in answered if self._objects_to_idea_of(c, post)]
            if owned and self._concedes(post):
                for concern in owned:
                    self._settle(concern, post, "conceded")
            rest = [c for c in answered if c not in owned]
            if rest:
                self._apply_adoption(post, rest, by_proposer=False)

    def _quotes_mail_of(self, post: Post, concern: Concern) -> bool:
        """Whether the post quotes, with its own words under it, a line of the mail that
        raised the concern."""
        raised = self.posts_by_key.get(concern.post)
        if raised is None or not post.quoted:
            return False
        said = _collapsed(raised.text)
        return any(
            len(text) >= MIN_QUOTED_CHARS and text in said
            for text in (_collapsed(_unnested(block)) for block in post.quoted)
        )

    def _opens_seconding(self, post: Post) -> bool:
        """Whether the post agrees and no more: a short "+1, I agree with Bob", or an
        opening that agrees and objects alike ("I support this, ... I'm not yet
        convinced"). "+1, the concern is addressed in rc2 because ..." goes on to
        answer it."""
        opening = self.reader.opening(post)
        if not opening & _SECONDING or "contrast" in opening:
            return False
        return len(self.reader.cues(post)) <= SECONDING_SENTENCES or bool(opening & _OBJECTING)

    def _only_thanks(self, post: Post) -> bool:
        """A few words of thanks and nothing else ("Thanks for raising this."), or no words
        of its own at all ("Thanks!" and the quoted mail)."""
        units = self.reader.units(post)
        cues = self.reader.cues(post)
        if not units:
            return True
        thanks = all(found == {"thanks"} for found in cues)
        return thanks and sum(unit.words for unit in units) <= THANKS_WORDS

    def _concedes(self, post: Post) -> bool:
        """An answer that opens by giving the point up ("Sure, and I don't even claim
        it's a viable idea", "Fair enough") and does not argue back."""
        opening = " ".join(u.probe for u in self.reader.units(post)[:2])
        gives_up = (
            _ASSENT_OPENER.match(opening)
            or _ACCEPTS.search(opening)
            or _CONCEDES.search(opening)
            or _ADOPTS.search(opening)
        )
        return bool(gives_up) and not _REBUTS.search(opening)

    def _apply_summary(self, post: Post) -> None:
        """The proposer's summary of where the thread ended up settles the points its
        items adopt by their raiser's name ("Where this ended up: ... - Nothing gets
        committed until 8.2 is tagged, per Kasper."): the raiser's point on the item's
        topic, or their one point left. An item that keeps a point open, declines or
        defers it ("Kasper's worry stays open", "not for 3.0") settles nothing."""
        if not self._vouched(post) or not any(
            self._speaks_as(post, person) for person in self.reader.proposers
        ):
            return
        units = self.reader.units(post)
        intro = next((u.index for u in units if _SUMS_UP_THE_THREAD.search(u.probe)), None)
        if intro is None:
            return
        items: dict[tuple[int, int | None], list[Unit]] = {}
        for unit in units[intro + 1 :]:
            if unit.item is not None:
                items.setdefault(unit.point, []).append(unit)
        unsettled = [
            c
            for c in self.concerns.values()
            if c.state in UNSETTLED
            and c.post != post.key
            and not self._speaks_as(post, c.raised_by)
        ]
        for members in items.values():
            probe = " ".join(u.probe for u in members)
            if _KEPT_OPEN.search(probe):
                continue
            text = " ".join(u.text for u in members)
            named = {c.raised_by for c in unsettled if _names_person(probe, c.raised_by)}
            if not named:
                # An item that names nobody ("/docs/studio/* gets a redirect instead of
                # being deleted") adopts the one open point it is about, if only one.
                about = [c for c in unsettled if same_topic(text, c.text, self.subject_words)]
                if len(about) == 1:
                    self._settle(about[0], post, "adopted")
                continue
            if len(named) != 1:
                continue
            theirs = [c for c in unsettled if c.raised_by in named]
            on_topic = [c for c in theirs if same_topic(text, c.text, self.subject_words)]
            for concern in on_topic or (theirs if len(theirs) == 1 else []):
                self._settle(concern, post, "adopted")

    def _settle(self, concern: Concern, post: Post, resolution: str) -> None:
        self.concerns[concern.id] = replace(
            self.concerns[concern.id],
            state=ConcernState.RESOLVED,
            resolved_by=PostRef.of(post),
            resolution=resolution,
        )

    def _objects_to_idea_of(self, concern: Concern, post: Post) -> bool:
        """Whether ``post``'s verified author wrote what ``concern`` replies to, someone
        other than its raiser: the concern is about their idea."""
        raised = self.posts_by_key.get(concern.post)
        target = self._answered_by_raising(raised) if raised else None
        return (
            target is not None
            and not _same_author(target.author, concern.raised_by)
            and self._speaks_as(post, target.author)
        )

    def _answered_by_raising(self, raised: Post) -> Post | None:
        """The post the raising post answers: its parent, or on a pull request (where every
        comment replies to the root) the last earlier comment on the same lines."""
        moment = (raised.created_at, raised.key)
        earlier = (
            p
            for p in self.posts_by_key.values()
            if (p.created_at, p.key) < moment and _same_review_hunk(raised, p)
        )
        latest = max(earlier, key=lambda p: (p.created_at, p.key), default=None)
        return latest or self.reader.by_id.get(_parent_id(raised) or "")

    def _proposer_turn(self, post: Post, concern: Concern) -> bool:
        """In a flat thread (GitHub comments all answer the root) the proposer's next
        comment after a concern is their answer to it, unless they spoke in between.

        Not a review comment: written on lines of the diff, it answers what was said
        on those lines (:func:`_same_review_hunk`), not the conversation's comments."""
        raised = self._raised_beside(post, concern)
        if raised is None or _REVIEW_COMMENT.search(post.text):
            return False
        since, now = (raised.created_at, raised.key), (post.created_at, post.key)
        return not any(since < moment < now for moment in self.reader.proposer_posts)

    def _addressee_turn(self, post: Post, concern: Concern, put_to: dict[str, bool]) -> bool:
        """In a flat thread, a concern put to someone ("@Happypig375 I'm not following
        what you mean, ...") is answered by the next comment they write. ``put_to``:
        whether each raising post addresses this post's author, asked once per post."""
        raised = self._raised_beside(post, concern)
        if raised is None:
            return False
        if raised.key not in put_to:
            put_to[raised.key] = _addresses(raised, post.author)
        before = self.last_spoke.get(post.author.voice)
        return put_to[raised.key] and (before is None or before < (raised.created_at, raised.key))

    def _raised_beside(self, post: Post, concern: Concern) -> Post | None:
        """The post that raised ``concern``, if it answers what ``post`` answers: in a
        flat thread (GitHub comments all answer the root) both hang off one parent."""
        raised = self.posts_by_key.get(concern.post)
        parent_id = _parent_id(post)
        if raised is None or parent_id is None or _parent_id(raised) != parent_id:
            return None
        return raised

    # -- who may settle a concern -----------------------------------------------------

    def _vouched(self, post: Post) -> bool:
        """Settling a concern gives weight, so it takes a sender the directory can verify
        (without a directory, as in `make eval`'s offline reading, every sender)."""
        people = self.settings.people
        return people is None or people.author_of(post).verified

    def _speaks_as(self, post: Post, person: Person) -> bool:
        """Whether the post's verified author is ``person``: by configured identity or
        address, never by a display name alone where addresses exist."""
        people = self.settings.people
        if people is None:
            return _same_author(post.author, person)
        return self._vouched(post) and people.is_same_person(post.author, person)

    def _apply_adoption(self, post: Post, answered: list[Concern], *, by_proposer: bool) -> None:
        """The point taken up settles it: the proposer's "Good point", or anyone saying
        they changed the document ("I've updated the copy") in answer to it."""
        units = self.reader.units(post)
        opening = " ".join(u.probe for u in units[:3])
        # "Good point" from the proposer settles it only when that is about all they say:
        # "I agree that X. The use case I have in mind is narrower: ..." argues on.
        agrees = by_proposer and (
            (len(units) <= ADOPTION_SENTENCES and _ADOPTS.search(opening))
            or _AGREES_OUTRIGHT.search(" ".join(u.probe for u in units[:2]))
        )
        adopts = _CHANGED_DOCUMENT.search(opening) or agrees
        if adopts and not _REBUTS.search(opening):
            taken_up = answered
        elif by_proposer:
            # An answer to one concern alone that commits to a change needs no shared
            # words to be about it: '> This needs "-m", doesn't it?' / 'Yeah, this
            # definitely needs "-m". Will change.' (Agreeing with a part of it, "I agree
            # that stashes should stay short-lived", may go on to argue.)
            # ... or to the one point of the post it replies to, whatever older points it
            # answers beside it ("Hi Xintong, Jark and Jing, ... It is a fair point ... I
            # just added that to the FLIP wiki.", in reply to Xintong).
            parent_id = _parent_id(post)
            of_parent = [c for c in answered if parent_id in self.raised_in[c.id]]
            taken_up = [
                c
                for c in answered
                if self._takes_up_in_a_paragraph(
                    post, units, c, len(answered) == 1 or of_parent == [c]
                )
            ]
        else:
            taken_up = []
        for concern in taken_up:
            self._settle(concern, post, "adopted")

    def _put_to_another(self, lead: Unit, concern: Concern) -> bool:
        """Whether a paragraph opens by naming someone in the thread other than the
        concern's raiser ("Keiko, thank you for testing. ...")."""
        return _opens_naming(
            lead.text, self.reader.participant_names - names_for(concern.raised_by)
        )

    def _takes_up_in_a_paragraph(
        self, post: Post, units: Sequence[Unit], concern: Concern, alone: bool = False
    ) -> bool:
        """A long inline answer settles the points it takes up one paragraph at a time:
        "+1 on having toolings to enforce the conventions." answers the tooling point.
        ``alone``: the post answers this concern only, so a paragraph committing to a
        change is about it; so does a paragraph written right under a quote of it ("Ok,
        we are happy to do that (including implementing it)")."""
        points: dict[tuple[int, int | None], list[Unit]] = {}
        for unit in units:
            points.setdefault(unit.point, []).append(unit)

        def takes_up(members: list[Unit]) -> bool:
            under = answers_quote_of(post, members[0], concern)
            # "@jmbx: good point, ... It's spelled out in the doc now.": a paragraph put
            # to the raiser by name is about their point; one put to someone else ("Keiko,
            # thanks for testing. I'll add your numbers to the doc.") is not.
            put_to_them = _opens_addressing(members[0].text, concern.raised_by)
            if not put_to_them and not under and self._put_to_another(members[0], concern):
                return False
            if (alone or under or put_to_them) and any(
                _COMMITS_TO_CHANGE.search(u.probe) or _CHANGED_DOCUMENT.search(u.probe)
                for u in members[:3]
            ):
                return True
            if put_to_them and any(_ADOPTS.search(u.probe) for u in members[:1]):
                return True
            if under and any(_ADOPTS.search(u.probe) for u in members[:2]):
                return True
            return any(
                _ADOPTS.search(u.probe) or _CHANGED_DOCUMENT.search(u.probe) for u in members[:2]
            ) and same_topic(" ".join(u.text for u in members), concern.text, self.subject_words)

        return any(
            takes_up(members) and not _REBUTS.search(" ".join(u.probe for u in members[:2]))
            for members in points.values()
        )

    def _apply_acceptance(self, post: Post, *, raises_new: bool) -> None:
        mine = [
            c
            for c in self.concerns.values()
            if not c.settled and self._speaks_as(post, c.raised_by) and c.post != post.key
        ]
        if not mine:
            return
        text = _probe(prose(post.text))
        explicit = bool(_ACCEPTS_EXPLICITLY.search(text))
        concedes = bool(_CONCEDES.search(text))
        # "Thanks, that works for me. What I'm less sure about is 3.12, ...": the opening
        # settles the point it answers and the rest raises a new one. ("OK, but I still
        # worry that ..." accepts nothing.)
        opens_accepting = self._opens_accepting(post)
        approves = approves_pull_request(post.text, mirror_login(post)) or gives_own_trailer(post)
        if raises_new and not (explicit or concedes or opens_accepting or approves):
            return
        ancestors = self._ancestors(post)
        related = [
            c
            for c in mine
            if ancestors & (self.raised_in[c.id] | self.answers_in[c.id])
            # A review thread is flat: the hunk it comments on says what it answers.
            or _same_review_hunk(post, self.posts_by_key.get(c.post))
        ]
        if not related and self._replies_to_the_opening(post):
            # A flat thread (an issue's or a topic's comments all answer the opening post)
            # says nothing by its replies: "Deprecation warnings in 2.9 is exactly what I
            # was asking for" takes the answer given last to a point of the writer's.
            answered = [c for c in mine if c.answered_by]
            if answered:
                related = [max(answered, key=lambda c: c.answered_by[-1].at)]
        if not related and self._replies_to_proposer(post):
            # The proposer's revision answers every point of the round at once, in reply to
            # whichever mail came last ("I've put up v2: - Transparency report (Thomas,
            # Sunita): numbers only ..."). "Numbers-only with the three-report floor works
            # for me" under it speaks of the writer's point on its topic, or of their one
            # open point.
            related = self._on_topic(post, mine)
        if approves:
            chosen = mine  # a review that approves settles every point its writer made
        elif explicit:
            chosen = related or mine
        elif raises_new:
            # Only the opening accepts; which point it settles is plain only if one.
            chosen = related if len(related) == 1 else []
        elif _PLUS_ONE.search(prose(post.text)) and not _MINUS_ONE.search(text):
            chosen = mine  # a +1 from the person who objected withdraws every objection
        elif concedes or _ACCEPTS.search(text) or _ASSENT_OPENER.match(text):
            chosen = related
        else:
            chosen = []
        for concern in chosen:
            self._settle(concern, post, "accepted")

    # -- new concerns ---------------------------------------------------------------

    def _record_findings(
        self, post: Post, parent: Post | None, findings: tuple[Finding, ...]
    ) -> None:
        for finding in findings:
            if parent is not None and self._rebuts(post, parent, finding):
                continue  # defending what was challenged answers that concern
            repeated = self._repeat_of(post, finding)
            if repeated is not None:
                self._note_repeat(repeated, post, finding)
                continue
            if self._gives_way(post, finding) or self._said_by_command(post, finding):
                continue
            base = slugify(finding.title)
            concern_id = unique_id(base, self.concerns)
            self._add(post, concern_id, finding)
            if self._vouched(post) and self._accepted_at_once(post, finding):
                self._settle(self.concerns[concern_id], post, "accepted")

    def _said_by_command(self, post: Post, finding: Finding) -> bool:
        """Whether a concern command of the same post already holds the finding's words:
        "@rfcbot concern runner-cost" explained by the paragraph under it is one concern,
        named by its writer, not that one and another found in its paragraph."""
        said = _collapsed(finding.text)
        return any(
            concern.post == post.key
            and concern.source is ConcernSource.COMMAND
            and said in _collapsed(concern.text)
            for concern in self.concerns.values()
        )

    def _gives_way(self, post: Post, finding: Finding) -> bool:
        """Back in the thread, the writer names what still bothers them and gives way in
        the same breath ("I still think 18 months is too early. But I won't block it.",
        "Not thrilled, but I understand why"): their part in the discussion closes, no
        point opens. In a first post the same words name a concern, and accept it."""
        if post.author.voice not in self.last_spoke:
            return False
        text = _probe(finding.text)
        given = list(_GIVES_WAY.finditer(text))
        return bool(given) and not _YET.search(text, given[-1].end())

    def _accepted_at_once(self, post: Post, finding: Finding) -> bool:
        """Named and accepted in one breath ("For me the main drawback is that the key
        must be retrievable. That's a shame, but it's good enough for alpha."): the
        sentence right after the point accepts it, and it is settled as it is raised."""
        units = self.reader.units(post)
        following = [
            units[at + 1]
            for at, unit in enumerate(units[:-1])
            if unit.text == (finding.stated or finding.sentences)[-1]
        ]
        return any(_ACCEPTS.search(unit.probe) for unit in following[:1])

    def _rebuts(self, post: Post, parent: Post, finding: Finding) -> bool:
        """Defending what the parent challenged, on its topic: that answers the concern.
        A drawback named outright ("The big drawback there is ...") is a new concern."""
        parent_id = _id_of(parent)
        if not parent_id or finding.cue in _NAMES_A_FAULT:
            return False
        others = [c for c in self.concerns.values() if not _same_author(post.author, c.raised_by)]
        # Written right under a quote of someone's point in a flat thread, where the quote
        # is all that says whom it answers ("> my three-line fix will now sit for a month"
        # / "I get the frustration, but I don't think that follows.").
        if is_root(parent) and self.reader.is_proposer(parent.author):
            lead = next(
                (u for u in self.reader.units(post) if u.text == finding.sentences[0]), None
            )
            block = quote_above(post, lead) if lead is not None else None
            if (
                lead is not None
                and block is not None
                and not _quotes_from(block, parent)
                and any(answers_quote_of(post, lead, c) for c in others)
            ):
                return True
        return any(
            parent_id in self.raised_in[c.id]
            and same_topic(finding.said, self.texts[c.id][0], self.subject_words)
            for c in others
        )

    def _repeat_of(self, post: Post, finding: Finding) -> Concern | None:
        """An earlier concern this finding makes again; within one post, points stay apart.

        Most of it must come back: in one thread everyone shares the topic, and a
        raiser's second point on it is a point of its own."""
        restates = partial(
            same_topic,
            ignore=self.subject_words,
            share=RESTATED_SHARE,
            share_of_longer=RESTATED_SHARE_OF_LONGER,
        )
        own = [
            concern
            for concern in self.concerns.values()
            if concern.source is not ConcernSource.COMMAND
            and concern.post != post.key
            and _same_author(post.author, concern.raised_by)
        ]
        for concern in own:
            if any(restates(finding.said, t) for t in self.texts[concern.id]):
                return concern
        # "That said, I won't block if the upgrade guide is loud about it.", "Neither is a
        # blocker, but I'd like both in the doc": the writer weighs what they raised, in
        # this post or before; it is that concern, not another.
        if _WEIGHS_OWN.search(_probe(finding.said)):
            here = [
                concern
                for concern in self.concerns.values()
                if concern.post == post.key and _same_author(post.author, concern.raised_by)
            ]
            weighed = here or [c for c in own if c.answered_by] or own
            if weighed:
                return weighed[-1]
        # "In summary, +1 to merge demos, -1 to merge ant-tasks", "As I said, ...": the
        # writer says it is their point again, in whatever words; the latest one it is.
        # So is a bare ballot from someone who gave their reasons before ("Still -0."):
        # it names nothing new.
        if own and (_SUMS_UP.search(finding.said.casefold()) or _bare_stance_said(finding)):
            return own[-1]
        answered = [concern for concern in own if concern.answered_by]
        if answered and (
            _STILL_UNCONVINCED.search(finding.said.casefold())
            or _KEEPS_OBJECTION.search(finding.text.casefold())
        ):
            return answered[-1]
        return None

    def _note_repeat(self, concern: Concern, post: Post, finding: Finding) -> None:
        self.texts[concern.id].append(finding.said)
        if _id_of(post):
            self.raised_in[concern.id].add(_id_of(post) or "")
        if post.key != concern.post and post.key not in concern.repeated_in:
            self.concerns[concern.id] = replace(
                concern, repeated_in=(*concern.repeated_in, post.key)
            )
        if post.key != concern.post:
            self._reopen_adopted(concern.id)

    def _reopen_adopted(self, concern_id: str) -> None:
        """The proposer changed the document, and the raiser says it again ("I still think
        two cleanup mechanisms are a cost I'd rather not pay"): answered, not settled.
        (What the raiser accepted, or a command settled, stays settled.)"""
        current = self.concerns[concern_id]
        if current.resolution == "adopted":
            self.concerns[concern_id] = replace(
                current, state=ConcernState.ANSWERED, resolved_by=None, resolution=""
            )

    def _argues_on(self, post: Post) -> None:
        """The raiser's reply that says they are still not satisfied, whether or not the
        reader finds a point in it ("Thanks for publishing the sample. ... I still think
        two cleanup mechanisms are a long-term cost, but I won't block on it.")."""
        text = _probe(prose(post.text))
        if not _STILL_UNCONVINCED.search(text) or _ACCEPTS.search(text):
            return  # accepting one point and arguing another: the points decide, one by one
        for concern in list(self.concerns.values()):
            if concern.post != post.key and self._speaks_as(post, concern.raised_by):
                self._reopen_adopted(concern.id)

    def _add(self, post: Post, concern_id: str, finding: Finding) -> None:
        self.concerns[concern_id] = Concern(
            thread=self.thread,
            id=concern_id,
            title=finding.title,
            text=finding.text,
            raised_by=post.author,
            raised_at=post.created_at,
            post=post.key,
            source=finding.source,
            sentences=finding.sentences,
            cue=finding.cue,
            message_id=post.message_id,
            url=post.url,
        )
        self.raised_in[concern_id] = {_id_of(post) or ""} if _id_of(post) else set()
        self.answers_in[concern_id] = set()
        # What a restatement is compared with: the point as stated, not its paragraph.
        self.texts[concern_id] = [finding.said]


def _parent_id(post: Post) -> str | None:
    """In-Reply-To, or the last Reference for clients that only send References; on
    the forum, the post it replies to (Discourse's reply_to_post_number)."""
    if post.in_reply_to:
        return post.in_reply_to
    if post.references:
        return post.references[-1]
    number = post.headers.get(HEADER_REPLY_TO) if post.source is Source.DISCOURSE else None
    return _forum_id(post.thread_key, number) if number else None


def _id_of(post: Post) -> str | None:
    """What replies name a post by: its Message-ID, or on the forum its number in the topic."""
    if post.message_id:
        return post.message_id
    number = post.headers.get(HEADER_POST_NUMBER) if post.source is Source.DISCOURSE else None
    return _forum_id(post.thread_key, number) if number else None


def _forum_id(topic: str, number: str) -> str:
    return f"{topic}#{number}"


def _opens_addressing(text: str, person: Person) -> bool:
    """Whether a paragraph opens by naming ``person``: "@jmbx: ...", "Hannah, ..."."""
    return _opens_naming(text, names_for(person))


def _opens_naming(text: str, names: Iterable[str]) -> bool:
    """Whether a paragraph opens by addressing one of ``names`` (casefolded)."""
    lead = text.lstrip().casefold()
    return any(
        lead.startswith((f"@{name}:", f"@{name},", f"@{name} ", f"{name}:", f"{name},"))
        for name in names
    )


def _same_author(one: Person, other: Person) -> bool:
    """Lenient on purpose: the same name from two addresses is one voice in a thread, and
    so is the name a review tool or a list relays ("Tomasz Wierzbicki (Code Review)",
    "Bob Baker via dev") beside the one he writes under himself."""
    if is_same_person(one, other):
        return True
    return bool(one.name) and _plain_name(one.name) == _plain_name(other.name)


# What a relaying tool adds to its author's name: Gerrit's and Phabricator's tag, and the
# "via" of a list or forum that sends from its own address.
_TOOL_TAG = re.compile(
    r"\s+(?:\((?:code\s+review|gerrit(?:\s+code\s+review)?|phabricator|jira|bugzilla|gitlab)\)"
    r"|via\s+\S.*)$",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def _plain_name(name: str) -> str:
    bare = name.strip().strip("'\"")
    return _ascii(_TOOL_TAG.sub("", bare).strip().strip("'\"")).casefold()


def quote_above(post: Post, unit: Unit) -> str | None:
    """The quoted block an inline reply's sentence answers: the last one above its
    paragraph. None above the first quote (a top-posted answer), or where the post does
    not record where its quotes sat (stored by an older version)."""
    if len(post.quote_at) != len(post.quoted):
        return None
    above = [block for block, at in zip(post.quoted, post.quote_at, strict=True) if at <= unit.line]
    return above[-1] if above else None


def answers_quote_of(post: Post, unit: Unit, concern: Concern) -> bool:
    """Whether ``unit`` sits right under a quote of ``concern``."""
    block = quote_above(post, unit)
    return block is not None and _holds(concern, (_unnested(block),))


def quotes_answered(post: Post, units: Sequence[Unit]) -> tuple[str, ...]:
    """The quoted blocks some paragraph of the post sits right under, unnested."""
    above = dict.fromkeys(quote_above(post, unit) for unit in units)
    return tuple(_unnested(block) for block in above if block is not None)


@lru_cache(maxsize=256)
@lru_cache(maxsize=4096)
def _collapsed(text: str) -> str:
    """The text with its whitespace run together, as quotes are compared: each post's text
    is asked for once per quote that may come from it, so it is collapsed once."""
    return " ".join(text.split())


def _unnested(block: str) -> str:
    """A quoted block with older levels' markers removed: "> > the concern" / "> an
    answer to it" / then this answers both."""
    return _NESTED_MARKERS.sub("", block)


_NESTED_MARKERS = re.compile(r"^(?:\s*>)+ ?", re.MULTILINE)
# A quote this short ("> Agreed.") may come from anyone's mail.
MIN_QUOTED_CHARS = 25


def _quotes(post: Post, concern: Concern) -> bool:
    """Whether the post quotes one of the concern's sentences, or a piece of one."""
    return _holds(concern, post.quoted)


# How much of a sentence's start a quote must hold, in characters.
NEEDLE = 60


def _quotes_from(block: str, post: Post) -> bool:
    """Whether a quoted block is ``post``'s own text (the proposal quoted, not a point
    someone raised about it)."""
    return _probe(_unnested(block))[:NEEDLE] in _probe(post.text)


def _holds(concern: Concern, blocks: tuple[str, ...]) -> bool:
    """Whether quoted ``blocks`` hold one of the concern's sentences, or a piece of one."""
    quoted, pieces, quoted_words = _quoted_text(blocks)
    if not quoted:
        return False
    sentences = concern.sentences or (concern.text,)
    # Replies often quote just the clause they answer ("> I am concerned that X").
    probed = [_probe(sentence) for sentence in sentences]
    if any(len(piece) >= 24 and piece[:80] in whole for piece in pieces for whole in probed):
        return True
    for probe in probed:
        needle = probe[:NEEDLE]
        words = _telling_words(probe)
        if len(needle) >= 12 and needle in quoted:
            return True
        # Re-wrapped quotes can break the exact text; most of the words still survive.
        if len(words) >= 4 and len(words & quoted_words) >= 0.75 * len(words):
            return True
    return False


def _telling_words(probe: str) -> set[str]:
    """The whole words of four letters or more in a sentence's first NEEDLE characters:
    "the", "is", "to", "that" are in every quote, and the word the cut broke ("i thin")
    is in none."""
    words = re.findall(r"\w+", probe[:NEEDLE])
    if len(probe) > NEEDLE and probe[NEEDLE - 1].isalnum() and probe[NEEDLE].isalnum():
        words = words[:-1]
    return {word for word in words if len(word) > 3}


@lru_cache(maxsize=256)
def _quoted_text(quoted: tuple[str, ...]) -> tuple[str, tuple[str, ...], frozenset[str]]:
    """A post's direct quotes as :func:`_quotes` compares them: the whole, each block, the
    words. Cached, since a post is compared with every open concern of its thread."""
    blocks = _direct_blocks(quoted)
    whole = _probe(" ".join(blocks))
    return whole, tuple(_probe(block) for block in blocks), frozenset(re.findall(r"\w+", whole))


def _same_review_hunk(post: Post, other: Post | None) -> bool:
    """Two review comments on the same lines of a pull request are one conversation:
    GitHub mirrors each with the diff hunk it was written on."""
    if other is None or not post.quoted or not other.quoted:
        return False
    if not (_REVIEW_COMMENT.search(post.text) and _REVIEW_COMMENT.search(other.text)):
        return False
    return post.quoted[0].strip() == other.quoted[0].strip()


def _top_posted(post: Post) -> bool:
    """Whether all of the post's own text comes before what it quotes: the quote is the
    old mail kept below the answer, not the parts of it an inline reply answers."""
    if not post.quote_at:
        return False  # stored before quote positions were kept, or quoting nothing
    written = sum(1 for line in post.text.splitlines() if line.strip())
    return min(post.quote_at) >= written > 0


def _direct_quotes(post: Post) -> tuple[str, ...]:
    return _direct_blocks(post.quoted)


@lru_cache(maxsize=256)
def _direct_blocks(quoted: tuple[str, ...]) -> tuple[str, ...]:
    """The quoted blocks' lines from the parent itself, empty blocks left out (cached: a
    post is compared with every open concern of its thread)."""
    return tuple(q for q in (_direct_quote(block) for block in quoted) if q.strip())


def _direct_quote(block: str) -> str:
    """The lines quoted from the parent itself; deeper '>' levels are older context."""
    return "\n".join(line for line in block.splitlines() if not line.lstrip().startswith(">"))


# A proposer's summary of the thread: "Where this ended up:", "To sum up:", "In summary".
_SUMS_UP_THE_THREAD = re.compile(
    r"\b(?:where\s+(?:this|we|things)\s+(?:ended\s+up|landed|stand)|to\s+sum\s+(?:it\s+)?up"
    r"|to\s+summari[sz]e|in\s+summary|summary\s+of\s+(?:the\s+)?(?:discussion|thread|feedback)"
    r"|here(?:'s|\s+is)\s+(?:the\s+)?(?:summary|outcome))\b"
)
# An item that keeps a point open, declines or defers it.
_KEPT_OPEN = re.compile(
    r"\b(?:not|won't|will\s+not|declined?|rejected?|open|still|unresolved|disagreed?|later"
    r"|deferred|out\s+of\s+scope)\b|n't\b"
)


def _names_person(probe: str, person: Person) -> bool:
    """Whether a text names the person by a name of three letters or more they go by."""
    return bool(_named_in(probe, frozenset(n for n in names_for(person) if len(n) >= 3)))


def _addresses(post: Post, person: Person) -> bool:
    """An @mention of the person, or their name used to address them ("Hi Ann,", "Ann:")."""
    logins = {person.address.split("@")[0].casefold()} if person.address else set()
    if person.name:
        logins.add(re.sub(r"\s+", "", person.name).casefold())
        # "@Jisoo added section "Rollback"": a list writes its @mentions by first name.
        first = _ascii(person.name.split(" ")[0]).casefold()
        if len(first) >= 3:
            logins.add(first)
    if any(_ascii(m).casefold() in logins for m in post.mentions):
        return True
    names = [
        n for n in {person.name, person.name.split(" ")[0] if person.name else ""} if len(n) >= 3
    ]
    text = _ascii(post.text).casefold()
    for name in names:
        folded = re.escape(_ascii(name).casefold())
        # A revision's summary answers each person in an item of their own: "- Sun-Hee: I
        # don't have a full answer yet", "1. Marco: RELEASES.md now says ...".
        greeting = (
            rf"(?:^|\n)\s*(?:(?:[-*•]|\d+[.)])\s*)?(?:(?:hi|hello|hey|dear|thanks|thank\s+you)\s+)?"
            rf"{folded}\s*[,:!]"
        )
        thanks = rf"\bthanks?\b[^.\n]{{0,60}}\b{folded}\b"
        # "Anselm is right that the doc text is wrong", "... flips in 4.22 (Rhodri)."
        credited = rf"\b{folded}\s+is\s+right\b|\(\s*{folded}\s*\)"
        if re.search(greeting, text) or re.search(thanks, text) or re.search(credited, text):
            return True
    return False
