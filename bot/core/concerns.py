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
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from typing import Any

from bot.core.commands import (
    DEFAULT_HANDLE,
    Action,
    Command,
    CommandError,
    ResolvePolicy,
    Verb,
    authorize,
    error_reply,
    help_reply,
    is_command_line,
    is_same_person,
    parse_commands,
    prose,
    prose_lines,
    refusal_reply,
)
from bot.core.people import People
from bot.core.threads import parse_subject
from bot.model import Person, Post

TITLE_WORDS = 8
# A cue sentence this short (or a short question, or one ending in a colon) says
# *that* there is a problem, and the next sentences say *what* it is.
BARE_WORDS = 3
BARE_QUESTION_WORDS = 8
ELABORATION_SENTENCES = 2
LIST_ITEM_SENTENCES = 4
# Mail wraps near 72 columns; a line much shorter than that ended on purpose.
HARD_BREAK_BELOW = 40


class ConcernState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


class ConcernSource(StrEnum):
    COMMAND = "command"
    DETECTED = "detected"


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

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


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
            "repeated_in": list(self.repeated_in),
        }


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    """``maintainers`` are roster entries: addresses (with ``@``) or names/logins."""

    handle: str = DEFAULT_HANDLE
    maintainers: frozenset[str] = frozenset()
    bot_addresses: frozenset[str] = frozenset()
    resolvers: ResolvePolicy = ResolvePolicy.AUTHOR_OR_MAINTAINER
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
# Sentences
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of new prose, with where it sits: cues care about lines and blocks."""

    text: str
    probe: str
    block: int
    in_list: bool
    starts_line: bool
    first_in_block: bool

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def is_question(self) -> bool:
        return self.text.rstrip(" )\"'").endswith("?")


_LIST_ITEM = re.compile(r"^\s{0,6}(?:[-*•+]|\(?\d{1,2}[.)]|\(?[a-z][)])\s+\S")
# Attributions the quote splitter left behind: "2017-11-06 10:00 GMT+01:00 Name <a@b>:",
# "Name wrote on 2017-11-16 05:49:". They name who is quoted, not what anyone thinks.
_ATTRIBUTION_REMNANT = re.compile(
    r"(?:<[^<>\s]+@[^<>\s]+>|\b(?:wrote|schrieb|a écrit|escribió)\b).{0,80}:\s*$", re.IGNORECASE
)
_SENT_FROM = re.compile(r"^\s*sent from my \w+", re.IGNORECASE)
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "mr.", "dr.", "no."})


def sentences_of(text: str, handle: str = DEFAULT_HANDLE) -> tuple[Sentence, ...]:
    """Split new text into sentences, skipping code, commands and attribution remnants."""
    masked = prose_lines(text)
    original = text.splitlines()
    found: list[Sentence] = []
    for number, (in_list, lines) in enumerate(_blocks(original, masked, handle)):
        for index, (sentence, masked_sentence, starts_line) in enumerate(_split_block(lines)):
            found.append(
                Sentence(
                    text=sentence,
                    probe=_probe(masked_sentence),
                    block=number,
                    in_list=in_list,
                    starts_line=starts_line,
                    first_in_block=index == 0,
                )
            )
    return tuple(found)


def _blocks(
    original: list[str], masked: list[str], handle: str
) -> list[tuple[bool, list[tuple[str, str]]]]:
    """Paragraphs and list items, each as (is a list item, [(line, code-masked line)])."""
    blocks: list[tuple[bool, list[tuple[str, str]]]] = []
    current: list[tuple[str, str]] = []
    current_is_item = False

    def close() -> None:
        if current:
            blocks.append((current_is_item, list(current)))
            current.clear()

    for line, probe in zip(original, masked, strict=True):
        skip = (
            not probe.strip()
            or is_command_line(probe, handle)
            or _ATTRIBUTION_REMNANT.search(probe)
            or _SENT_FROM.match(probe)
        )
        if skip:
            close()
            current_is_item = False
            continue
        if _LIST_ITEM.match(probe):
            close()
            current_is_item = True
        current.append((line.strip(), probe.strip()))
    close()
    return blocks


def _split_block(lines: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """Sentences of one block as (text, masked text, starts a line)."""
    out: list[tuple[str, str, bool]] = []
    segment: list[tuple[str, str]] = []
    for index, (line, masked) in enumerate(lines):
        if segment and _hard_break(lines[index - 1][0]):
            out.extend(_split_segment(segment))
            segment = []
        segment.append((line, masked))
    if segment:
        out.extend(_split_segment(segment))
    return out


def _hard_break(previous: str) -> bool:
    return previous.rstrip().endswith((".", "?", "!", ":", ";")) or len(previous) < HARD_BREAK_BELOW


def _split_segment(lines: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """Sentence-split wrapped lines joined by spaces; remember which sentences start a line."""
    text = " ".join(line for line, _ in lines)
    masked = " ".join(probe for _, probe in lines)
    line_starts = {0}
    offset = 0
    for line, _ in lines[:-1]:
        offset += len(line) + 1
        line_starts.add(offset)
    # The masked text has the same length as the original, so one set of cuts serves both.
    cuts = [0, *(m.end() for m in _BOUNDARY.finditer(masked) if _is_boundary(masked, m)), len(text)]
    out: list[tuple[str, str, bool]] = []
    for start, end in pairwise(cuts):
        sentence = text[start:end].strip()
        if sentence:
            out.append((sentence, masked[start:end].strip(), start in line_starts))
    return out


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    mark = match.group(0)
    if "?" in mark or "!" in mark:
        return True
    following = text[match.end() : match.end() + 1]
    if not following or not (following.isupper() or following.isdigit() or following in "(\"'-+@"):
        return False  # "... unless", "e.g. foo": an ellipsis or abbreviation mid-sentence
    word = text[: match.start() + 1].split()[-1].casefold() if text[: match.start()].strip() else ""
    return word not in _ABBREVIATIONS


def _probe(text: str) -> str:
    """What cues read: lower case, typographic apostrophes and spaces made plain."""
    text = text.replace("’", "'").replace("‘", "'").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text).strip().casefold()


# --------------------------------------------------------------------------
# Cues
# --------------------------------------------------------------------------

_FEELING = (
    r"concerned|worried|nervous|uneasy|wary|uncomfortable|skeptical|sceptical|unconvinced"
    r"|not\s+convinced|hesitant|troubled|afraid\s+that"
)
_WORRY_NOUN = r"concerns?|worry|worries|fears?|objections?|reservations?|hesitations?|doubts?"
_THIS = r"(?:this|that|it|these|those|the\s+(?:proposal|idea|approach|change|plan|suggestion))"

# Each cue names itself, so a reader can see *why* a sentence was taken.
CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "concerned",
            rf"\b(?:i|we)(?:'m|'re|\s+am|\s+are|\s+was|\s+were|\s+remain)\s+(?:\w+\s+){{0,2}}?"
            rf"(?:{_FEELING})\b",
        ),
        ("my-concern", rf"\bmy\s+(?:\w+\s+)?(?:{_WORRY_NOUN})\b"),
        (
            "have-concern",
            rf"\b(?:i|we)\s+(?:still\s+|also\s+)?(?:have|had)\s+(?:\w+\s+){{0,3}}?(?:{_WORRY_NOUN})\b",
        ),
        (
            "worry",
            # "should I worry?" asks; it does not worry.
            r"(?<!should\s)(?<!would\s)(?<!must\s)(?<!need\s)(?<!do\s)(?<!can\s)"
            r"\b(?:i|we)\s+(?:do\s+|really\s+|still\s+|also\s+|strongly\s+)?"
            r"(?:worry|fear|doubt|object|disagree|oppose)\b",
        ),
        (
            "worries-me",
            r"\b(?:it|this|that|what)\s+(?:really\s+)?(?:worries|concerns|bothers|scares)\s+me\b",
        ),
        ("against", r"\bi(?:'m|\s+am)\s+(?:\w+\s+)?(?:opposed\s+to|against)\b"),
        (
            "dislike",
            r"\bi\s+(?:really\s+|still\s+|just\s+)?(?:do\s+not|don't|dont)\s+(?:really\s+)?"
            r"(?:like|agree|buy)\b"
            r"|\bi\s+(?:really\s+|just\s+)?(?:hate|dislike)\b|\banti-?pattern\b",
        ),
        (
            "dont-see",
            r"\bi\s+(?:still\s+|really\s+|just\s+)?(?:do\s+not|don't|dont|can't|cannot|fail\s+to)\s+"
            r"see\s+(?:the\s+(?:need|point|benefit|value|reason|use|advantage)|how|why)\b",
        ),
        (
            "dont-understand",
            r"\bi\s+(?:still\s+)?(?:do\s+not|don't|dont)\s+understand\s+(?:why|how|the\s+(?:need|point|reason))\b",
        ),
        (
            "dont-think",
            r"\bi\s+(?:still\s+|really\s+)?(?:do\s+not|don't|dont)\s+think\s+(?:that\s+)?(?:"
            r"(?:this|that|it)\s+(?:is|would\s+be|will\s+be)\s+(?:a\s+good\s+idea|wise|right|needed"
            r"|necessary|worth|appropriate|ready)|we\s+(?:should|need|want))\b",
        ),
        (
            "think-not",
            r"\bi\s+(?:still\s+|really\s+)?(?:think|believe|feel)\s+(?:that\s+)?we\s+"
            r"(?:should\s+not|shouldn't|must\s+not|mustn't)\b",
        ),
        ("not-a-fan", r"\bnot\s+(?:a|much\s+of\s+a|the\s+biggest)\s+fan\b"),
        ("not-convinced", r"\bnot\s+(?:yet\s+|really\s+)?convinced\b"),
        (
            "not-sure",
            r"\bnot\s+(?:so\s+|really\s+|entirely\s+|quite\s+|at\s+all\s+)?sure\s+(?:that\s+|if\s+|whether\s+)?"
            r"(?:it|this|that|we|the\s+\w+)\b[^.?!]{0,60}?\b(?:makes?\s+sense|good\s+idea|worth|right"
            r"|needed|necessary|wise|belongs?|a\s+good)\b"
            r"|\bnot\s+(?:so\s+|really\s+|entirely\s+)?sure\s+about\s+(?:this|that|it|the)\b",
        ),
        (
            "unclear",
            r"\bi(?:'m|\s+am)\s+(?:still\s+)?unclear\s+(?:how|why|what|whether)\b"
            r"|\b(?:it's|it\s+is|it\s+remains)\s+(?:not\s+clear|unclear)\s+(?:to\s+me\s+)?(?:how|why|what|whether)\b",
        ),
        (
            "odd",
            r"\b(?:weird|strange|odd|wrong)\s+to\s+me\b"
            r"|\b(?:it's|it\s+is|seems|looks|sounds|feels)\s+(?:a\s+bit\s+|rather\s+|very\s+|quite\s+)?"
            r"(?:weird|strange|odd|wrong)\s+(?:to\s+me\s+)?that\b",
        ),
        (
            "not-good",
            r"\b(?:seems|looks|sounds|feels)\s+(?:\w+\s+)?not\s+(?:so\s+|very\s+|that\s+|too\s+)?"
            r"(?:good|great|right|ideal|wise)\b",
        ),
        (
            "bad-idea",
            r"\b(?:bad|terrible|dangerous|risky)\s+idea\b|\bstep\s+backwards?\b"
            r"|\b(?:is|would\s+be)\s+a\s+mistake\b",
        ),
        (
            "rather-not",
            r"\bi(?:'d|\s+would)\s+(?:much\s+)?(?:rather|prefer)\s+(?:we\s+|to\s+)?(?:not|didn't)\b",
        ),
        (
            "problem-with",
            rf"\b(?:the|one|my|a|another)\s+(?:\w+\s+)?(?:problem|issue|concern|risk|downside|drawback"
            rf"|danger|catch)\s+(?:with|about)\s+{_THIS}\b",
        ),
        (
            "issue-i-see",
            r"\b(?:problem|issue|risk|downside|drawback)s?\s+(?:that\s+)?i\s+(?:can\s+)?see\b",
        ),
        (
            "one-of-the-issues",
            r"\bone\s+of\s+the\s+(?:\w+\s+)?(?:problems|issues|risks|downsides|drawbacks|concerns)\s+"
            r"(?:with|of|here)\b",
        ),
        ("downside", r"\bthe\s+(?:\w+\s+)?(?:downside|drawback|danger)\s+(?:is|here)\b"),
        (
            "wont-work",
            # Future or conditional only: "this does not work" reports a bug, not an objection.
            r"\b(?:this|that|it|which)\s+(?:won't|will\s+not|wouldn't|would\s+not|can't|cannot)\s+"
            r"(?:really\s+)?(?:work|scale|fly)\b",
        ),
        (
            "would-break",
            r"\b(?:this|that|it|which)\s+(?:would|will|could|might)\s+(?:\w+\s+)?(?:break|regress)\b",
        ),
        ("veto", r"\b(?:i\s+)?veto\b"),
        ("out-of-scope", r"\bout\s+of\s+scope\b"),
        (
            "caution",
            r"\b(?:keep|bear)\s+in\s+mind\b|\bbeware\b|\bconsider\s+that\b|\bdon't\s+forget\s+that\b"
            r"|\bi\s+hope\s+you(?:'re|\s+are)\s+aware\b",
        ),
        (
            "reconsider",
            r"\b(?:should|need\s+to|must|have\s+to|ought\s+to)\s+(?:\w+\s+)?(?:think\s+about|consider"
            r"|reconsider|question|ask\s+ourselves|think\s+twice\s+about)\s+(?:whether|if)\b",
        ),
        (
            "yes-but",
            r"\b(?:interesting|nice|valid)\s+(?:idea|option|point|approach|thought)\s*,?\s+but\s+i\b"
            r"|\bfeasible\s*,?\s+but\b",
        ),
    )
)

# A -1 of one's own: at the start of a sentence or after a space, never "1-1" or "-1.5",
# and not a -1 someone talks about ("give a -1", "your -1", "why -1").
_MINUS_ONE = re.compile(r"(?:^|[\s(\[])-1(?![\d.])")
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

# Pointed questions challenge the proposal rather than ask for information.
_POINTED = re.compile(
    r"^(?:but\s+|so\s+|and\s+|then\s+|also\s+|honestly,?\s+|seriously,?\s+)?(?:"
    r"who(?:'s|\s+is|\s+are|\s+will|\s+would)\s+(?:going\s+to\s+|gonna\s+)?(?:do|maintain|implement|pay"
    r"|own|support|review|write|test|fix|work)"
    r"|what(?:'s|\s+is|\s+are|\s+would\s+be)\s+(?:the|your)\s+(?:\w+\s+)?(?:objective|point|goal|purpose"
    r"|benefit|advantage|use\s*case|rationale|motivation|value|gain)"
    r"|how\s+(?:would|does|will|could|can)\s+(?:this|that|it)\s+(?:\w+\s+)?(?:help|work|solve|improve"
    r"|scale|differ)"
    r"|why\s+(?:would|should|do|does|must)\s+(?:we|you|anyone|users?)\b"
    r"|(?:do|does|did|have|has)\s+(?:you|we|anyone|anybody)\s+(?:\w+\s+)?(?:have|got|run|tried|measured"
    r"|tested|seen|considered)\s+(?:any\s+|some\s+)?(?:demos?|data|numbers|benchmarks?|evidence"
    r"|examples?|use\s*cases?|prototypes?|proof|measurements?|users?|the\s+(?:impact|cost|risk)"
    r"|alternatives?)"
    r"|(?:is|isn't|are|aren't|wouldn't|won't|doesn't)\s+(?:this|that|it|there)\s+(?:really\s+|actually\s+)?"
    r"(?:necessary|needed|required|overkill|worth|risky|dangerous|premature|breaking"
    r"|a\s+(?:problem|risk|concern|regression))"
    r"|what\s+about\s+(?:backwards?\s+compat\w*|compat\w*|existing\s+users|security|performance"
    r"|migration|maintenance|the\s+(?:cost|risk|users|impact))"
    r"|what\s+happens\s+(?:when|if|to)"
    r"|(?:could|can)\s+you\s+(?:please\s+)?(?:explain|justify|clarify|elaborate|provide\s+details)"
    r")"
)

# Sentences that use concern words without raising one: denials, invitations, other people's.
_NOT_RAISING = re.compile(
    r"\b(?:no|not\s+any|without\s+any|without)\s+(?:real\s+|major\s+|big\s+|further\s+|more\s+|other\s+)?"
    r"(?:concerns?|objections?|worries|issues|problems?)\b"
    r"|\bnot\s+(?:concerned|worried)\b|\b(?:don't|do\s+not|no\s+need\s+to)\s+worry\b|\bno\s+worries\b"
    r"|\byour\s+(?:\w+\s+)?(?:concerns?|worry|worries|fears?|objections?|-1)\b"
    r"|\b(?:his|her|their)\s+(?:concerns?|objections?|worries)\b"
    r"|\bif\s+(?:you|anyone|someone|somebody)\s+(?:\w+\s+)?(?:has|have|are|is)\s+(?:\w+\s+)?"
    r"(?:concerns?|objections?|worried|concerned)\b"
    r"|\b(?:any|other|further|more)\s+(?:concerns|objections|thoughts|comments|feedback|questions)\b[^.]*\?"
)
# Acceptance opening a sentence: "ok, out of scope" concedes rather than objects.
_CONCEDES = re.compile(
    r"^(?:then\s+)?(?:ok|okay|fair\s+enough|agreed|sure|right|yes|yep|great|thanks|thank\s+you)\b"
)

# Someone accepting an answer to their own concern.
_ACCEPTS_EXPLICITLY = re.compile(
    r"\b(?:addresses|answers|resolves|settles)\s+my\s+(?:\w+\s+)?(?:concerns?|objections?|worry|worries"
    r"|question|point)\b"
    r"|\bi\s+withdraw\b|\bwithdraw(?:ing)?\s+my\s+(?:concerns?|objections?|-1|veto)\b"
    r"|\bmy\s+(?:\w+\s+)?(?:concerns?|objections?|worries)\s+(?:is|are|has|have|was|were)\s+(?:\w+\s+)?"
    r"(?:addressed|resolved|answered|gone)\b"
    r"|\bno\s+longer\s+(?:concerned|worried)\b|\bchange\s+my\s+vote\s+to\s+\+1\b"
)
_ACCEPTS = re.compile(
    r"\bfair\s+enough\b|\bmakes\s+sense\s+now\b|\b(?:that|this)\s+makes\s+sense\b"
    r"|\byou(?:'ve|\s+have)\s+convinced\s+me\b|\bi\s+stand\s+corrected\b"
    r"|\bi\s+can\s+live\s+with\s+(?:that|this|it)\b|\b(?:that|this|it)\s+works\s+for\s+me\b"
    r"|\bi(?:'m|\s+am)\s+(?:fine|ok|okay|happy)\s+with\s+(?:that|this|it)\b"
)
# Only as the first words of a post: "Yes, ..." answering the message it replies to.
# Not "ok": "ok, done" acknowledges an action, not an answer.
_ASSENT_OPENER = re.compile(
    r"^(?:yes|yep|agreed|good\s+point|sounds\s+good|convinced)\b(?![^.]*\bbut\b)"
)
_PLUS_ONE = re.compile(r"(?:^|\n)\s*\+1\b")

# A list introduced as a list of concerns: every item is one.
_LIST_INTRO = re.compile(
    r"\b(?:my|our|the\s+main|main|some|a\s+few|several|two|three|four|five|these|following)\s+"
    r"(?:\w+\s+)?(?:concerns|objections|worries|reservations|doubts)\b[^.?!]{0,60}:$"
)
# "... whether X - and also whether Y": two points in one sentence.
_COORDINATED = re.compile(r"\s(?:[-–—,;]\s*)?and\s+also\s+(?:whether|that|if)\b")
_DASH_CLAUSE = re.compile(r"\s[-–—]\s")


def cue_of(
    sentence: Sentence, *, replying_to: Post | None = None, own: Person | None = None
) -> str:
    """The name of the first cue this sentence carries, or "" when it raises nothing."""
    probe = sentence.probe
    if _NOT_RAISING.search(probe) or _ACCEPTS_EXPLICITLY.search(probe):
        return ""
    if _CONCEDES.match(probe) and " but " not in probe:
        return ""
    if (
        _MINUS_ONE.search(probe)
        and not sentence.is_question
        and not _MINUS_ONE_AS_NOUN.search(probe)
    ):
        return "-1"
    for name, pattern in CUES:
        if pattern.search(probe):
            return name
    to_someone_else = replying_to is not None and (
        own is None or not is_same_person(replying_to.author, own)
    )
    if sentence.is_question and to_someone_else and _POINTED.match(probe):
        return "question"
    refuses_statement = replying_to is not None and not _YES_NO_QUESTION.search(
        _probe(replying_to.text)
    )
    if sentence.first_in_block and to_someone_else and refuses_statement and _REFUSAL.match(probe):
        return "refusal"
    return ""


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------


def detect_concerns(
    post: Post, *, replying_to: Post | None = None, handle: str = DEFAULT_HANDLE
) -> tuple[Finding, ...]:
    """The distinct points this post raises, each with the sentences that raise it.

    ``replying_to`` is the post this one answers, when known: pointed
    questions and a flat "No." only count as concerns when they are put to
    somebody else.
    """
    sentences = sentences_of(post.text, handle)
    listed = _listed_blocks(sentences)
    findings: list[Finding] = []
    group: list[Sentence] = []
    group_cue = ""
    budget = 0
    for sentence in sentences:
        if sentence.block in listed:
            if sentence.first_in_block:
                findings.extend(_close(post, group, group_cue))
                group, group_cue, budget = [], "", 0
                item = [s for s in sentences if s.block == sentence.block]
                findings.append(_finding(post, item[:LIST_ITEM_SENTENCES], item[0], "listed"))
            continue
        if _introduces(sentence, listed):
            continue
        cue = cue_of(sentence, replying_to=replying_to, own=post.author)
        same_block = bool(group) and group[-1].block == sentence.block
        if cue and same_block and (not sentence.starts_line or sentence.in_list):
            group.append(sentence)  # the same point, argued on
            continue
        if cue:
            findings.extend(_close(post, group, group_cue))
            group, group_cue = [*_item_before(sentences, sentence, group), sentence], cue
            budget = ELABORATION_SENTENCES if _is_bare(sentence) else 0
            continue
        if same_block and (budget > 0 or sentence.in_list):
            group.append(sentence)
            budget -= 1
            continue
        findings.extend(_close(post, group, group_cue))
        group, group_cue, budget = [], "", 0
    findings.extend(_close(post, group, group_cue))
    return tuple(findings)


def _item_before(
    sentences: tuple[Sentence, ...], sentence: Sentence, closed: list[Sentence]
) -> list[Sentence]:
    """In a list item the cue may come last; the item's earlier sentences state the point."""
    if not sentence.in_list:
        return []
    return [
        s
        for s in sentences
        if s.block == sentence.block
        and s is not sentence
        and s not in closed
        and sentences.index(s) < sentences.index(sentence)
    ]


def _listed_blocks(sentences: tuple[Sentence, ...]) -> frozenset[int]:
    """List items that follow an "I would summarize my concerns:" line."""
    listed: set[int] = set()
    intro_blocks = {s.block for s in sentences if not s.in_list and _LIST_INTRO.search(s.probe)}
    for intro in intro_blocks:
        block = intro + 1
        while any(s.block == block and s.in_list for s in sentences):
            listed.add(block)
            block += 1
    return frozenset(listed)


def _introduces(sentence: Sentence, listed: frozenset[int]) -> bool:
    return sentence.block + 1 in listed and bool(_LIST_INTRO.search(sentence.probe))


def _is_bare(sentence: Sentence) -> bool:
    if sentence.words <= BARE_WORDS or sentence.text.endswith(":"):
        return True
    return sentence.is_question and sentence.words <= BARE_QUESTION_WORDS


def _close(post: Post, group: list[Sentence], cue: str) -> list[Finding]:
    if not group:
        return []
    if group[0].in_list:
        # In a list the item is the point; its first sentence names it best.
        return [_finding(post, group[:LIST_ITEM_SENTENCES], group[0], cue)]
    first = group[0]
    split = _COORDINATED.search(first.text)
    if len(group) == 1 and split is not None:
        return _split_coordinated(post, first, split.start(), cue)
    return [_finding(post, group, first, cue)]


def _split_coordinated(post: Post, sentence: Sentence, at: int, cue: str) -> list[Finding]:
    """'We should ask whether X - and also whether Y' makes two points, X and Y."""
    head = _first_clause(sentence.text[:at]).rstrip(" ,;-–—")
    tail = _first_clause(sentence.text[at:].strip(" ,;-–—")).rstrip(" ,;-–—")
    findings = []
    for part in (_balanced(head), _balanced(tail)):
        findings.append(Finding(post.key, (part,), make_title(part, cue=cue), cue))
    return findings


def _balanced(text: str) -> str:
    """Drop a bracket opened before the cut and never closed in what is kept."""
    if text.startswith("(") and ")" not in text:
        return text[1:]
    return text


def _first_clause(text: str) -> str:
    parts = _DASH_CLAUSE.split(text, maxsplit=1)
    return parts[0].strip()


def _finding(post: Post, group: list[Sentence], titled: Sentence, cue: str) -> Finding:
    source = titled.text
    if titled.words <= BARE_WORDS and not titled.is_question and len(group) > 1:
        source = group[1].text  # "-1" alone names nothing; its reason does
    return Finding(post.key, tuple(s.text for s in group), make_title(source, cue=cue), cue)


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
_COMPLEMENT_CUES = frozenset({"concerned", "worry", "odd", "caution", "worries-me"})
# Trimmed from the end of a cut-short title: words that only lead into what was cut.
_DANGLING = _word_set(
    """a an the of to in on at for with and or but that which who whose is are be been we it this
    by as its their his her our my your"""
)
_CLAUSE_END = re.compile(r"\s*(?::\s|;\s|\s[-–—]\s|\.\.+\s|\.\s|\(|,\s+(?:but|because|since)\s)")
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


def make_title(sentence: str, max_words: int = TITLE_WORDS, *, cue: str = "") -> str:
    """A short label from a sentence: lead-in phrases dropped, first clause, ≤ max_words."""
    text = re.sub(r"\s+", " ", sentence.replace("’", "'")).strip()
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
    if cue == "yes-but":
        found = re.search(r"\bbut\s+(?:i\s+(?:think|believe|feel)\s+(?:that\s+)?)?", lowered)
        return text[found.end() :] if found and found.end() < len(text) else text
    pattern = dict(CUES).get(cue) if cue in _COMPLEMENT_CUES else None
    found = pattern.search(lowered) if pattern else None
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


def same_topic(one: str, other: str, ignore: frozenset[str] = frozenset()) -> bool:
    """At least two shared content words, and a fair share of the shorter text's."""
    first, second = topic_words(one, ignore), topic_words(other, ignore)
    if not first or not second:
        return False
    shared = first & second
    return len(shared) >= 2 and len(shared) / min(len(first), len(second)) >= 0.3


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ings", "ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --------------------------------------------------------------------------
# The ledger
# --------------------------------------------------------------------------


def build_ledger(
    thread: str,
    posts: Iterable[Post],
    now: datetime,
    settings: LedgerSettings | None = None,
) -> Ledger:
    """Fold a thread's posts, in date order, into its concerns as of ``now``.

    The first post is the proposal: it is read for commands but not for
    prose concerns, because a proposer's own caveats are not objections to it.
    Posts dated after ``now`` are not seen yet.
    """
    settings = settings or LedgerSettings()
    ordered = sorted((p for p in posts if p.created_at <= now), key=lambda p: (p.created_at, p.key))
    subject = parse_subject(ordered[0].subject).topic if ordered else ""
    work = _Work(thread, settings, topic_words(subject))
    for index, post in enumerate(ordered):
        work.add(post, is_proposal=index == 0)
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
    concerns: dict[str, Concern] = field(default_factory=dict)
    raised_in: dict[str, set[str]] = field(default_factory=dict)
    answers_in: dict[str, set[str]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    errors: list[CommandError] = field(default_factory=list)

    def add(self, post: Post, *, is_proposal: bool) -> None:
        if not (post.auto_submitted or self._is_bot(post.author)):
            parent = self._parent(post)
            self._apply_commands(post)
            self._mark_answers(post, parent)
            findings = (
                ()
                if is_proposal
                else detect_concerns(post, replying_to=parent, handle=self.settings.handle)
            )
            self._apply_acceptance(post, raises_new=bool(findings))
            self._record_findings(post, parent, findings)
        if post.message_id:
            self.posts[post.message_id] = post

    # -- threading ----------------------------------------------------------------

    def _parent(self, post: Post) -> Post | None:
        return self.posts.get(_parent_id(post) or "")

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

    def _raise_by_command(self, post: Post, command: Command) -> None:
        name = command.name or ""
        existing = self.concerns.get(name)
        if existing is not None:
            reason = (
                f"a concern named {name!r} already exists in this thread"
                f" (raised by {existing.raised_by.display}); pick another NAME"
            )
            self.actions.append(refusal_reply(command, reason))
            return
        self._add(
            post, name, make_title(command.text), (command.text,), "command", ConcernSource.COMMAND
        )
        self.commands.append(command)

    def _run_command(self, post: Post, command: Command) -> None:
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
            self.actions.append(refusal_reply(command, verdict.reason))
            return
        if command.verb in (Verb.HOLD, Verb.UNHOLD) or concern is None:
            self.commands.append(command)  # holds belong to the RFC lifecycle, not here
            return
        if concern.settled:
            reason = f"{concern.id!r} is already {concern.state.value}"
            self.actions.append(refusal_reply(command, reason))
            return
        if command.verb is Verb.WITHDRAW:
            updated = replace(concern, state=ConcernState.WITHDRAWN, withdrawn_by=PostRef.of(post))
        else:
            updated = replace(concern, state=ConcernState.RESOLVED, resolved_by=PostRef.of(post))
        self.concerns[concern.id] = updated
        self.commands.append(command)

    # -- answers and acceptance ----------------------------------------------------

    def _mark_answers(self, post: Post, parent: Post | None) -> None:
        parent_id = _parent_id(post)
        for concern in list(self.concerns.values()):
            if concern.settled or _same_author(post.author, concern.raised_by):
                continue
            replies = parent_id is not None and parent_id in self.raised_in[concern.id]
            quotes = _quotes(post, concern)
            # An inline reply shows what it answers by what it quotes: a reply that quotes
            # other parts of the message and not this concern is answering those.
            replies = replies and (quotes or not _direct_quotes(post))
            if replies or quotes or _addresses(post, concern.raised_by):
                self.concerns[concern.id] = replace(
                    concern,
                    state=ConcernState.ANSWERED,
                    answered_by=(*concern.answered_by, PostRef.of(post)),
                )
                if post.message_id:
                    self.answers_in[concern.id].add(post.message_id)

    def _apply_acceptance(self, post: Post, *, raises_new: bool) -> None:
        mine = [
            c
            for c in self.concerns.values()
            if not c.settled and _same_author(post.author, c.raised_by) and c.post != post.key
        ]
        if not mine:
            return
        text = _probe(prose(post.text))
        explicit = bool(_ACCEPTS_EXPLICITLY.search(text))
        if raises_new and not explicit:
            return  # "ok, but I still worry that ..." accepts nothing
        ancestors = self._ancestors(post)
        related = [c for c in mine if ancestors & (self.raised_in[c.id] | self.answers_in[c.id])]
        if explicit:
            chosen = related or mine
        elif _PLUS_ONE.search(prose(post.text)) and not _MINUS_ONE.search(text):
            chosen = mine  # a +1 from the person who objected withdraws every objection
        elif _ACCEPTS.search(text) or _ASSENT_OPENER.match(text):
            chosen = related
        else:
            chosen = []
        for concern in chosen:
            self.concerns[concern.id] = replace(
                concern, state=ConcernState.RESOLVED, resolved_by=PostRef.of(post)
            )

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
            base = slugify(finding.title)
            concern_id = unique_id(base, self.concerns)
            self._add(
                post,
                concern_id,
                finding.title,
                finding.sentences,
                finding.cue,
                ConcernSource.DETECTED,
            )

    def _rebuts(self, post: Post, parent: Post, finding: Finding) -> bool:
        if not parent.message_id:
            return False
        return any(
            parent.message_id in self.raised_in[c.id]
            and not _same_author(post.author, c.raised_by)
            and same_topic(finding.text, c.text, self.subject_words)
            for c in self.concerns.values()
        )

    def _repeat_of(self, post: Post, finding: Finding) -> Concern | None:
        """An earlier concern this finding makes again; within one post, points stay apart."""
        for concern in self.concerns.values():
            if concern.source is not ConcernSource.DETECTED or concern.post == post.key:
                continue
            if not _same_author(post.author, concern.raised_by):
                continue
            if any(same_topic(finding.text, t, self.subject_words) for t in self.texts[concern.id]):
                return concern
        return None

    def _note_repeat(self, concern: Concern, post: Post, finding: Finding) -> None:
        self.texts[concern.id].append(finding.text)
        if post.message_id:
            self.raised_in[concern.id].add(post.message_id)
        if post.key != concern.post and post.key not in concern.repeated_in:
            self.concerns[concern.id] = replace(
                concern, repeated_in=(*concern.repeated_in, post.key)
            )

    def _add(
        self,
        post: Post,
        concern_id: str,
        title: str,
        sentences: tuple[str, ...],
        cue: str,
        source: ConcernSource,
    ) -> None:
        self.concerns[concern_id] = Concern(
            thread=self.thread,
            id=concern_id,
            title=title,
            text=" ".join(sentences),
            raised_by=post.author,
            raised_at=post.created_at,
            post=post.key,
            source=source,
            sentences=sentences,
            cue=cue,
            message_id=post.message_id,
            url=post.url,
        )
        self.raised_in[concern_id] = {post.message_id} if post.message_id else set()
        self.answers_in[concern_id] = set()
        self.texts[concern_id] = [" ".join(sentences)]


def _parent_id(post: Post) -> str | None:
    """In-Reply-To, or the last Reference for clients that only send References."""
    if post.in_reply_to:
        return post.in_reply_to
    return post.references[-1] if post.references else None


def _same_author(one: Person, other: Person) -> bool:
    """Lenient on purpose: the same name from two addresses is one voice in a thread."""
    if is_same_person(one, other):
        return True
    return bool(one.name) and _ascii(one.name).casefold() == _ascii(other.name).casefold()


def _quotes(post: Post, concern: Concern) -> bool:
    """Whether the post quotes one of the concern's sentences, or a piece of one."""
    blocks = _direct_quotes(post)
    quoted = _probe(" ".join(blocks))
    if not quoted:
        return False
    sentences = concern.sentences or (concern.text,)
    # Replies often quote just the clause they answer ("> I am concerned that X").
    pieces = [_probe(block) for block in blocks]
    probed = [_probe(sentence) for sentence in sentences]
    if any(len(piece) >= 24 and piece[:80] in whole for piece in pieces for whole in probed):
        return True
    quoted_words = set(re.findall(r"\w+", quoted))
    for sentence in sentences:
        needle = _probe(sentence)[:60]
        words = set(re.findall(r"\w+", needle))
        if len(needle) >= 12 and needle in quoted:
            return True
        # Re-wrapped quotes can break the exact text; most of the words still survive.
        if len(words) >= 6 and len(words & quoted_words) >= 0.8 * len(words):
            return True
    return False


def _direct_quotes(post: Post) -> list[str]:
    return [q for q in (_direct_quote(block) for block in post.quoted) if q.strip()]


def _direct_quote(block: str) -> str:
    """The lines quoted from the parent itself; deeper '>' levels are older context."""
    return "\n".join(line for line in block.splitlines() if not line.lstrip().startswith(">"))


def _addresses(post: Post, person: Person) -> bool:
    """An @mention of the person, or their name used to address them ("Hi Ann,", "Ann:")."""
    logins = {person.address.split("@")[0].casefold()} if person.address else set()
    if person.name:
        logins.add(re.sub(r"\s+", "", person.name).casefold())
    if any(m.casefold() in logins for m in post.mentions):
        return True
    names = [
        n for n in {person.name, person.name.split(" ")[0] if person.name else ""} if len(n) >= 3
    ]
    text = _ascii(post.text).casefold()
    for name in names:
        folded = re.escape(_ascii(name).casefold())
        greeting = rf"(?:^|\n)\s*(?:(?:hi|hello|hey|dear|thanks|thank\s+you)\s+)?{folded}\s*[,:!]"
        thanks = rf"\bthanks?\b[^.\n]{{0,60}}\b{folded}\b"
        if re.search(greeting, text) or re.search(thanks, text):
            return True
    return False
