"""Votes: reading ballots, tallying them by a project's rules, checking RESULT mails.

The grammar is tuned on real ASF vote threads. Its guiding rule: a ballot is
counted only when it is explicit; anything that *looks* like a vote without an
explicit value ("works for me", "+1 if ...", "+1 ... -1") is reported as
ambiguous with the sentence it came from, never guessed and never dropped.

Pure: no I/O, no clock. Time arrives as ``now`` and as post timestamps.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum

from bot.model import Person, Post

# --------------------------------------------------------------------------
# Public shapes
# --------------------------------------------------------------------------


class ReadingKind(StrEnum):
    """What a post's text amounts to as a ballot."""

    NONE = "none"  # nothing vote-like
    VOTE = "vote"  # one explicit value
    CONFLICT = "conflict"  # several different explicit values
    CONDITIONAL = "conditional"  # an explicit value hedged by a condition
    VAGUE = "vague"  # vote-like wording without an explicit value


class Rule(StrEnum):
    SIMPLE_MAJORITY = "simple-majority"
    MAJORITY_APPROVAL = "majority-approval"
    CONSENSUS_APPROVAL = "consensus-approval"
    LAZY_TWO_THIRDS = "lazy-two-thirds"
    LAZY_CONSENSUS = "lazy-consensus"


class MajorityBasis(StrEnum):
    """Which votes "more + than -" compares; policies differ, so it is a setting."""

    BINDING = "binding"
    ALL = "all"


class VoteState(StrEnum):
    OPEN = "open"
    PASSED = "passed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BallotReading:
    """One post's text read as a ballot.

    ``value`` is the explicit value when exactly one was read (kept for a
    conditional ballot too, so reports can show it); ``None`` otherwise.
    ``justification`` is the rest of the post's prose, used to tell a veto
    with a reason from one without.
    """

    kind: ReadingKind
    value: float | None = None
    sentence: str = ""
    self_declared_binding: bool | None = None
    reason: str = ""
    justification: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.kind in (ReadingKind.CONFLICT, ReadingKind.CONDITIONAL, ReadingKind.VAGUE)

    @property
    def is_vote(self) -> bool:
        return self.kind is ReadingKind.VOTE


@dataclass(frozen=True, slots=True)
class VotePolicy:
    """The rule a vote is decided by, and the numbers that rule uses."""

    rule: Rule = Rule.MAJORITY_APPROVAL
    min_binding_plus: int = 3
    min_binding_votes: int = 3
    majority_basis: MajorityBasis = MajorityBasis.BINDING
    min_duration: timedelta = timedelta(hours=72)
    veto_needs_reason: bool = True


@dataclass(frozen=True, slots=True)
class Member:
    """A roster entry; ``left`` is exclusive, so someone who left at the opening no longer binds."""

    person: str
    joined: datetime | None = None
    left: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        if self.joined is not None and at < self.joined:
            return False
        return self.left is None or at < self.left


@dataclass(frozen=True, slots=True)
class Roster:
    """Who casts binding votes (a PMC, module owners ...)."""

    members: tuple[Member, ...]

    def is_binding(self, person: str, at: datetime) -> bool:
        key = name_key(person)
        return any(name_key(m.person) == key and m.active_at(at) for m in self.members)


@dataclass(frozen=True, slots=True)
class IdentityMap:
    """Aliases (addresses, display names, logins) to one person id."""

    aliases: Mapping[str, str]
    _index: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Normalised once: lookups must survive case, accents and spacing.
        index = {_identity_key(alias): person for alias, person in self.aliases.items()}
        object.__setattr__(self, "_index", index)

    def resolve(self, identity: str) -> str | None:
        if not identity:
            return None
        return self._index.get(_identity_key(identity))


@dataclass(frozen=True, slots=True)
class CallTerms:
    """What the vote call says about its own period."""

    opened_at: datetime
    closes_at: datetime
    minimum_closes_at: datetime
    stated_closes_at: datetime | None
    stated_sentence: str
    # "open for at least 72 hours" is a minimum; ballots after it are normal.
    stated_is_minimum: bool = True


@dataclass(frozen=True, slots=True)
class Cast:
    """One post's reading, attributed to a voter."""

    post: str
    url: str | None
    at: datetime
    identity: str
    reading: BallotReading


@dataclass(frozen=True, slots=True)
class Ballot:
    """A voter's standing ballot plus the casts it superseded (oldest first)."""

    voter: str
    binding: bool | None
    cast: Cast
    history: tuple[Cast, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def value(self) -> float | None:
        return self.cast.reading.value

    @property
    def ambiguous(self) -> bool:
        return self.cast.reading.ambiguous

    @property
    def counted(self) -> bool:
        return self.cast.reading.is_vote

    @property
    def bucket(self) -> int | None:
        """1, 0 or -1 for a counted ballot; None for an ambiguous one."""
        value = self.cast.reading.value
        return _bucket(value) if self.counted and value is not None else None

    @property
    def label(self) -> str:
        value = self.cast.reading.value
        return "?" if value is None else format_value(value)


@dataclass(frozen=True, slots=True)
class Tally:
    """Counted ballots. Binding counts are ``None`` when no roster is configured."""

    ballots: tuple[Ballot, ...]
    plus: int
    zero: int
    minus: int
    binding_plus: int | None
    binding_zero: int | None
    binding_minus: int | None
    ambiguous: int
    unmatched_identities: tuple[str, ...] = ()

    @property
    def binding_known(self) -> bool:
        return self.binding_plus is not None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the rule says if the vote closed now."""

    passes: bool
    reasons: tuple[str, ...]
    binding_unknown: bool
    vetoes: tuple[str, ...] = ()
    invalid_vetoes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnnouncedEntry:
    """One value's line(s) in a RESULT mail."""

    value: float
    count: int | None = None
    binding_count: int | None = None
    names: tuple[str, ...] = ()
    binding_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnnouncedResult:
    outcome: VoteState | None
    entries: tuple[AnnouncedEntry, ...]
    binding_names: tuple[str, ...] = ()
    quorum_reached: bool | None = None
    lines: tuple[str, ...] = ()

    def entry(self, value: float) -> AnnouncedEntry | None:
        bucket = _bucket(value)
        return next((e for e in self.entries if _bucket(e.value) == bucket), None)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A difference between our tally and a RESULT mail, naming who it concerns."""

    kind: str
    voters: tuple[str, ...]
    detail: str

    @property
    def soft(self) -> bool:
        # The release manager interpreting an ambiguous ballot, or naming a
        # voter by a first name two voters share, is reported but is no error.
        return self.kind in ("ambiguous-counted", "name-unresolved")


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str
    detail: str
    voters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VoteReport:
    thread: str
    subject: str
    state: VoteState
    policy: VotePolicy
    opened_at: datetime
    closes_at: datetime
    time_left: timedelta | None
    would_pass_now: bool | None
    tally: Tally
    outcome: Outcome
    announced: AnnouncedResult | None
    agrees_with_announced: bool | None
    discrepancies: tuple[Discrepancy, ...]
    flags: tuple[Flag, ...]

    @property
    def rule(self) -> Rule:
        return self.policy.rule

    @property
    def ballots(self) -> tuple[Ballot, ...]:
        return self.tally.ballots

    @property
    def binding_unknown(self) -> bool:
        return self.outcome.binding_unknown

    def to_dict(self) -> dict[str, object]:
        return {
            "thread": self.thread,
            "subject": self.subject,
            "state": str(self.state),
            "rule": str(self.rule),
            "majority_basis": str(self.policy.majority_basis),
            "opened_at": self.opened_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "time_left_seconds": (
                None if self.time_left is None else int(self.time_left.total_seconds())
            ),
            "would_pass_now": self.would_pass_now,
            "binding_unknown": self.binding_unknown,
            "ballots": [_ballot_dict(b) for b in self.ballots],
            "tally": {
                "plus": self.tally.plus,
                "zero": self.tally.zero,
                "minus": self.tally.minus,
                "binding_plus": self.tally.binding_plus,
                "binding_zero": self.tally.binding_zero,
                "binding_minus": self.tally.binding_minus,
                "ambiguous": self.tally.ambiguous,
            },
            "outcome": {
                "passes": self.outcome.passes,
                "reasons": list(self.outcome.reasons),
                "vetoes": list(self.outcome.vetoes),
                "invalid_vetoes": list(self.outcome.invalid_vetoes),
            },
            "announced": None if self.announced is None else _announced_dict(self.announced),
            "agrees_with_announced": self.agrees_with_announced,
            "discrepancies": [
                {"kind": d.kind, "voters": list(d.voters), "detail": d.detail}
                for d in self.discrepancies
            ],
            "flags": [
                {"kind": f.kind, "detail": f.detail, "voters": list(f.voters)} for f in self.flags
            ],
        }


# --------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------


def name_key(name: str) -> str:
    """A key for comparing names: "Hervé BOUTEMY" ~ "herve boutemy", "Karl-Heinz" ~ "Karl Heinz"."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def _identity_key(identity: str) -> str:
    # Addresses compare exactly (case-insensitively); names loosely.
    text = identity.strip()
    return text.casefold() if "@" in text else name_key(text)


def format_value(value: float) -> str:
    """``+1``, ``-1``, ``+0``, ``-0``, ``+0.5``: the sign of zero matters in ASF votes."""
    sign = "-" if math.copysign(1.0, value) < 0 else "+"
    return f"{sign}{abs(value):g}"


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _bucket(value: float) -> int:
    # Only whole +1/-1 count for or against; fractions are opinions, like 0.
    if value >= 1:
        return 1
    if value <= -1:
        return -1
    return 0


# --------------------------------------------------------------------------
# Ballot grammar: which lines are prose
# --------------------------------------------------------------------------

_SIG_DELIMITERS = frozenset({"--", "-- "})
_CUT_RE = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|message d'origine|ursprüngliche nachricht|"
    r"forwarded message)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM_RE = re.compile(r"^\s*From:\s")
_HEADER_NEXT_RE = re.compile(r"^\s*(?:Sent|Date|To|Envoyé|Gesendet|Subject)\s*:", re.IGNORECASE)
_QUOTED_RE = re.compile(r"^\s*>")
_ATTRIBUTION_RE = re.compile(
    r"\bwrote\b[^\n]*:\s*$"
    r"|\ba [ée]crit\s*:\s*$"
    r"|\bschrieb\b[^\n]*:\s*$"
    r"|\bescribi[óo]\b[^\n]*:\s*$"
    r"|<[^<>\s]+@[^<>\s]+>\s*:\s*$"
    r"|^\s*On\s[^\n]*<[^<>\s]+@[^<>\s]+>\s*$",
    re.IGNORECASE,
)
_FOOTER_RE = re.compile(r"^\s*(?:To unsubscribe|For additional commands)", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*(?:```|~~~)")
_DIFF_START_RE = re.compile(r"^(?:diff --git |index [0-9a-f]{7,}\.\.|--- a/|\+\+\+ b/|@@ -\d)")
_INDENTED_CODE_RE = re.compile(r"^(?:\t| {4,})\S")
_LOG_RE = re.compile(
    r"^\s*\[(?:INFO|WARN(?:ING)?|ERROR|DEBUG|TRACE|FATAL|SEVERE|FINE)\]"
    r"|\[(?:INFO|WARNING|ERROR)\]"
    r"|^\s*(?:INFO|WARN(?:ING)?|ERROR|DEBUG|TRACE|FATAL|SEVERE)\b[:\s]"
    r"|^\s*at\s+[\w$.<>]+\("
    r"|^\s*(?:Caused by|Exception in thread|Suppressed)\b"
    r"|^\s*\.\.\.\s*\d+\s+more\b"
    r"|^\s*\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}"
    r"|^\s*\d{2}:\d{2}:\d{2}"
    r"|^\s*(?:Tests run:|BUILD (?:SUCCESS|FAILURE)|Download(?:ing|ed)|Upload(?:ing|ed)|"
    r"Total time|Finished at|Final Memory)"
    r"|\.java:\d+\)"
)
_CODE_RE = re.compile(
    r"[;{}]\s*$|==|!=|&&|\|\||->|=>|::|\b[A-Za-z_]\w*\("
    r"|^\s*(?:import|package|def|class|public|private|protected|return|#include)\b"
)
_INLINE_CODE_RE = re.compile(r"`[^`]*`")


def _prose_lines(text: str) -> list[str]:
    """The lines a person wrote as prose; blank lines are kept as paragraph breaks.

    Quoted text should already be gone, but mail clients that put the quoted
    original below an Outlook header or a signature are common enough that the
    reader stops there too.
    """
    lines = text.splitlines()
    kept: list[str] = []
    in_fence = in_diff = False
    for index, line in enumerate(lines):
        if line.rstrip() in _SIG_DELIMITERS or line in _SIG_DELIMITERS or _CUT_RE.match(line):
            break
        if _HEADER_FROM_RE.match(line) and _next_is_header(lines, index):
            break
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if in_diff:
            in_diff = bool(line.strip())
            continue
        if _DIFF_START_RE.match(line):
            in_diff = True
            continue
        if not line.strip():
            kept.append("")
            continue
        if _is_machine_line(line):
            continue
        kept.append(_INLINE_CODE_RE.sub(" ", line).strip())
    return kept


def _next_is_header(lines: Sequence[str], index: int) -> bool:
    following = [line for line in lines[index + 1 : index + 4] if line.strip()]
    return bool(following) and bool(_HEADER_NEXT_RE.match(following[0]))


def _is_machine_line(line: str) -> bool:
    return bool(
        _QUOTED_RE.match(line)
        or _ATTRIBUTION_RE.search(line)
        or _FOOTER_RE.match(line)
        or _INDENTED_CODE_RE.match(line)
        or _LOG_RE.search(line)
        or _CODE_RE.search(line)
    )


# --------------------------------------------------------------------------
# Ballot grammar: values and their context
# --------------------------------------------------------------------------

_VALUE_RE = re.compile(
    # Not glued to a word, number, path or operator: "3.0.0-1", "GMT+1", "a+1".
    r"(?<![\w.+\-−–/=#%$^&~\\@:'\"’])"
    r"(?P<sign>\+\+|\+|-|−|–)?"
    r"(?P<num>1(?:\.0+)?|0(?:\.\d+)?|\.\d+)"
    # Not a longer number, a plural ("+1's") or a time/date ("+1:00", "-1.5").
    r"(?![\w%]|['’]s\b|[.,:/\-–]\d)"
)
_EMPTY_BOX_RE = re.compile(r"^\s*(?:\[\s*\]|\(\s*\))\s*")
_CHECKED_BOX_RE = re.compile(r"^\s*\[\s*[xX✓✔*]\s*\]\s*")
_LEAD_RE = re.compile(
    r"^\s*(?:[-*•]\s+(?=[+\-−–]?\d)|(?:my\s+)?vote\b\s*(?:is\b\s*)?[:=]?\s*)", re.I
)
# A legend defines a value right after it: "+1: yes", "+1 = approve",
# "+1 Release this package", "-1 Do not release ... because...".
_DEFINITION_RE = re.compile(
    r"^\s*[+\-−–]{0,2}\d(?:\.\d+)?\s*(?:[:=]"
    r"|[-–(]?\s*(?:approve|approval|release|accept|reject|disapprove|abstain|no opinion|"
    r"yes|no|don'?t|do not|against|in favou?r|i (?:don'?t|do not|approve|support|object))\b)",
    re.IGNORECASE,
)
_ANNOTATION_RE = re.compile(
    r"[(\[]?\s*(?:non[- ]?binding|not binding|nb|binding)\s*[)\]]?", re.IGNORECASE
)
_NON_BINDING_RE = re.compile(r"\bnon[- ]?binding\b|\b(?:not|n't) binding\b|\(nb\)", re.IGNORECASE)
_BINDING_RE = re.compile(r"\bbinding\b", re.IGNORECASE)
_BINDING_LABEL_RE = re.compile(r"\(\s*binding\s*\)|^\s*binding\s*$", re.IGNORECASE | re.MULTILINE)
_FROM_ME_RE = re.compile(
    r"^\s*(?:[(\[]?\s*(?:non[- ]?)?binding\s*[)\]]?\s*)?from\s+(?:me|my|us|our)\b", re.I
)
_FROM_OTHER_RE = re.compile(r"^\s*from\s+\w", re.IGNORECASE)
_VOTES_NOUN_RE = re.compile(r"^\s*(?:votes?|ballots?)\b", re.IGNORECASE)
_TAIL_RE = re.compile(
    # What may follow a ballot at the end of a sentence: annotations, "from me",
    # a short object ("on this", "for the release"), emoticons, a parenthesis.
    r"^(?:\s*(?:[(\[]?\s*(?:non[- ]?binding|not binding|nb|binding)\s*[)\]]?"
    r"|from\s+(?:me|my side|us|our side)|for\s+me|too|as well|again|also"
    r"|(?:on|for|to)\s+(?:this|that|it|the\s+\w+(?:\s+\w+)?|releasing|release)"
    r"|\([^)]*\)|[:;]-?[)D(]|[!.,)\]*_~…]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+))*\s*$",
    re.IGNORECASE,
)
_INTRO_WORDS = _wordset(
    "so thus hence therefore overall then and also again definitely obviously strongly "
    "still now too big huge my vote is am i'm im are be as say but however though yet"
)
_COUNT_WORDS = _wordset(
    "more one two three four five several many any no of than need needs needed require "
    "requires required got get gets received receive enough with by utc gmt cet cest pst "
    "pdt est edt bst z plus minus"
)
_REQUEST_WORDS = _wordset("for need needs want wants wait waiting ask asking get got")
_ARTICLE_WORDS = _wordset("a an the your his her their its our another this that such these those")
_CONDITION_BEFORE_RE = re.compile(
    r"\b(?:if|unless|would|could|provided|assuming)\b|\w'd\b", re.IGNORECASE
)
_CONDITION_AFTER_RE = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:if|unless|once|provided|assuming|as soon as)\b", re.I
)
_RESULT_STATEMENT_RE = re.compile(
    r"\bvote\b[^.]*\b(?:passed|failed|succeeded|carried|closed)\b|\b(?:passed|failed) with\b",
    re.IGNORECASE,
)
_PLEASE_RE = re.compile(r"\bplease\b|\bcast your\b", re.IGNORECASE)
_WITHDRAW_RE = re.compile(r"\b(?:withdraw|retract|revoke)\w*\b", re.IGNORECASE)
_CHANGE_RE = re.compile(r"\b(?:chang|switch|revis|turn|updat|mov)\w*\b", re.IGNORECASE)
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;])\s+|(?<=[!?])(?=[+\-−–]\d)")
_WORD_RE = re.compile(r"[\w'’]+")

_VAGUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\bnon[- ]?binding\b|\bnot binding\b", re.IGNORECASE),
        "declares itself non-binding but states no value",
    ),
    (
        re.compile(
            r"\bwork(?:s|ed)?\b(?:\s+\w+){0,2}\s+for\s+(?:me|us)\b|\blgtm\b|\blooks good to me\b"
            r"|\bship it\b|:\+1:|👍|\bcount me in\b|\bI approve\b",
            re.IGNORECASE,
        ),
        "approval wording without an explicit value",
    ),
)
_TESTED_RE = re.compile(r"\b(?:tested|testing|verified|checked|tried)\b", re.IGNORECASE)
_NO_TROUBLE_RE = re.compile(
    r"\b(?:no|without(?:\s+any)?)\s+(?:trouble|problems?|issues?|regressions?|errors?|failures?)\b"
    r"|\bworks?\s+(?:fine|well)\b|\ball good\b",
    re.IGNORECASE,
)
_REST_NOISE_RE = re.compile(
    r"^(?:\s+|[(\[]?\s*(?:non[- ]?binding|not binding|nb|binding)\s*[)\]]?"
    r"|from\s+(?:me|my side|us|our side)\b|[,.!:;)\]*_~…-]+)*",
    re.IGNORECASE,
)
_HEDGE_RE = re.compile(r"\b(?:if|unless|not|never|haven't|hasn't|didn't|doesn't)\b|n't\b", re.I)
_GREETING_RE = re.compile(r"^(?:hi|hello|hey|dear|greetings)\b[\w\s,.!]{0,30}$", re.I)
# A sign-off is the phrase alone or with a name ("Thanks, Robert"), never
# "Thanks for testing, but ...": the name part is capitalised words only.
_SIGN_OFF_RE = re.compile(
    r"^(?i:thanks?|thank you|thx|regards|best|cheers|br|kind regards|best regards|"
    r"best wishes|all the best|many thanks|greetings|gruss|cordialement)[\s,.!]*"
    r"(?:[A-Z~][\w.~-]*(?:\s+[A-Z][\w.-]*){0,2}[\s,.!]*)?$"
)


class _Sort(StrEnum):
    BALLOT = "ballot"
    CONDITIONAL = "conditional"
    UNSURE = "unsure"
    IGNORE = "ignore"


@dataclass(frozen=True, slots=True)
class _Hit:
    sort: _Sort
    value: float
    sentence: str
    rest: str = ""  # what the sentence says after the value: a veto's reason may start here


def _value_of(sign: str | None, num: str) -> float:
    magnitude = float("0" + num if num.startswith(".") else num)
    return -magnitude if sign in ("-", "−", "–") else magnitude


def _value_start(line: str) -> re.Match[str] | None:
    """A signed value (or a bare 0) opening a line, past any checkbox."""
    body = _CHECKED_BOX_RE.sub("", _EMPTY_BOX_RE.sub("", line, count=1), count=1).lstrip()
    match = _VALUE_RE.match(body)
    if match and (match.group("sign") or match.group("num") == "0"):
        return match
    return None


def _is_result_like(line: str) -> bool:
    """``+1 : Olivier, Herve`` or ``+1: 5`` - someone reporting a count, not voting."""
    match = re.match(
        r"^\s*[+\-−–]?\d(?:\.\d+)?\s*(?:'?s)?\s*(?:\((?:non[- ]?)?binding\))?\s*:\s*(.+)$", line
    )
    if not match:
        return False
    rest = match.group(1).strip()
    if re.fullmatch(r"\d+\b.*", rest) or rest.casefold() in {"none", "nobody", "-"}:
        return True
    parts = [p.strip() for p in re.split(r",|;|\band\b", rest) if p.strip()]
    capitalised = r"[A-ZÀ-Þ][\w'’.-]*(?:\s+[A-ZÀ-Þ][\w'’.-]*){0,3}"
    return len(parts) >= 2 and all(re.fullmatch(capitalised, p) for p in parts)


def _template_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of ballot-template lines (``[ ] +1``, ``+1 = approve``, a +1/0/-1 legend)."""
    template: set[int] = set()
    block: list[tuple[int, str]] = []
    for index, line in enumerate([*lines, ""]):  # the sentinel closes the last block
        start = _value_start(line)
        if start and _EMPTY_BOX_RE.match(line):
            template.add(index)
        elif start and not _CHECKED_BOX_RE.match(line):
            if re.match(r"^\s*\S+\s*=", line):
                template.add(index)  # "+1 = approve"
            block.append((index, start.group(0)))
        else:
            if _is_legend(block, lines):
                template.update(i for i, _ in block)
            block = []
    return template


def _is_legend(block: Sequence[tuple[int, str]], lines: Sequence[str]) -> bool:
    # A reply's "+1 for A / -1 for B" is a conflict to report, so a block of
    # values is a legend only when it defines what the values mean.
    values = {token for _, token in block}
    defining = sum(1 for i, _ in block if _DEFINITION_RE.match(_EMPTY_BOX_RE.sub("", lines[i])))
    return len(block) >= 2 and len(values) >= 2 and 2 * defining >= len(block)


def _words_before(before: str) -> list[str]:
    # Annotations between intro word and value ("my non-binding +1") do not change the context.
    cleaned = _ANNOTATION_RE.sub(" ", before)
    return [w.casefold().replace("’", "'") for w in _WORD_RE.findall(cleaned)]


def _classify(sentence: str, match: re.Match[str]) -> _Sort:
    before, after = sentence[: match.start()], sentence[match.end() :]
    sign, num = match.group("sign"), match.group("num")
    at_start = not before.strip(" \t*_([\"'")
    if sign is None:
        # A bare "0" is a ballot only on its own; "0 failures" is not.
        plain_zero = num.startswith("0") and at_start and bool(_TAIL_RE.match(after))
        return _Sort.BALLOT if plain_zero else _Sort.IGNORE
    if (
        _RESULT_STATEMENT_RE.search(sentence)
        or _PLEASE_RE.search(before)
        or sentence.rstrip().endswith("?")
    ):
        return _Sort.IGNORE
    if _VOTES_NOUN_RE.match(after) and not before.rstrip().casefold().endswith("my"):
        return _Sort.IGNORE
    words = _words_before(before)
    previous = words[-1] if words else ""
    if previous in _COUNT_WORDS or re.fullmatch(r"\d[\d:.]*", previous):
        return _Sort.IGNORE
    if previous in _ARTICLE_WORDS and len(words) > 1 and words[-2] in _REQUEST_WORDS:
        return _Sort.IGNORE  # "looking for a +1", "waiting for another +1"
    if _WITHDRAW_RE.search(sentence):
        return _Sort.UNSURE
    sort = _context_sort(before, after, previous, at_start)
    if sort is _Sort.BALLOT and (
        _CONDITION_BEFORE_RE.search(before) or _CONDITION_AFTER_RE.match(after)
    ):
        return _Sort.CONDITIONAL
    return sort


def _context_sort(before: str, after: str, previous: str, at_start: bool) -> _Sort:
    if _FROM_ME_RE.match(after):
        return _Sort.BALLOT
    if previous in _ARTICLE_WORDS or _FROM_OTHER_RE.match(after):
        # "translate this to a +1", "+1 from Olivier": talk about votes.
        return _Sort.UNSURE
    if at_start or previous in _INTRO_WORDS or re.search(r"[,:;\-–—(!]\s*$", before):
        return _Sort.BALLOT
    if _TAIL_RE.match(after):
        return _Sort.BALLOT
    return _Sort.UNSURE


def _ballot_body(line: str) -> str:
    return _LEAD_RE.sub("", _CHECKED_BOX_RE.sub("", line, count=1), count=1)


def _hits_in_line(line: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for sentence in (s.strip() for s in _SENTENCE_SPLIT_RE.split(_ballot_body(line))):
        matches = list(_VALUE_RE.finditer(sentence))
        changed_to = _changed_to(sentence, matches)
        for match in matches:
            value = _value_of(match.group("sign"), match.group("num"))
            if changed_to is not None:
                sort = _Sort.BALLOT if match is changed_to else _Sort.IGNORE
            else:
                sort = _classify(sentence, match)
            rest = _REST_NOISE_RE.sub("", sentence[match.end() :])
            hits.append(_Hit(sort, value, sentence, rest))
    return hits


def _changed_to(sentence: str, matches: Sequence[re.Match[str]]) -> re.Match[str] | None:
    """In "I change my -1 to +1" only the new value is a ballot."""
    if len(matches) < 2 or not _CHANGE_RE.search(sentence):
        return None
    for match in reversed(matches):
        if re.search(r"\b(?:to|into)\s*$", sentence[: match.start()], re.IGNORECASE):
            return match
    return None


def _self_declared(sentences: Iterable[str], prose: str) -> bool | None:
    """What the voter says about their own ballot (recorded, never trusted)."""
    for sentence in sentences:
        if _NON_BINDING_RE.search(sentence):
            return False
        if _BINDING_RE.search(sentence):
            return True
    # Elsewhere in the post only explicit labels count: "binding" alone is too
    # common in talk about votes ("still waiting for binding votes").
    if _NON_BINDING_RE.search(prose):
        return False
    return True if _BINDING_LABEL_RE.search(prose) else None


def _justification(lines: Sequence[str], skip: set[int], ballots: Sequence[_Hit]) -> str:
    """The prose around the ballot, minus greetings and sign-offs: a veto's stated reason."""
    rests = {hit.sentence: hit.rest for hit in ballots}
    kept: list[str] = []
    for index, line in enumerate(lines):
        text = _ballot_body(line).strip()
        if _SIGN_OFF_RE.match(text):
            break  # what follows a sign-off is a name, not a reason
        if not text or index in skip or _GREETING_RE.match(text):
            continue
        kept.extend(rests.get(s.strip(), s.strip()) for s in _SENTENCE_SPLIT_RE.split(text))
    return " ".join(s for s in kept if s)


def _paragraph_sentences(lines: Sequence[str]) -> list[str]:
    paragraphs = " ".join(line if line else "\n" for line in lines).split("\n")
    return [
        s.strip()
        for paragraph in paragraphs
        for s in _SENTENCE_SPLIT_RE.split(" ".join(paragraph.split()))
        if s.strip()
    ]


def _vague_reading(lines: Sequence[str], prose: str) -> BallotReading | None:
    sentences = _paragraph_sentences(lines)
    for pattern, reason in _VAGUE_PATTERNS:
        found = next((s for s in sentences if _unhedged_match(pattern, s)), None)
        if found:
            return BallotReading(
                ReadingKind.VAGUE,
                sentence=found,
                self_declared_binding=_self_declared([found], prose),
                reason=reason,
            )
    sentence = _tested_fine(sentences)
    if sentence:
        return BallotReading(
            ReadingKind.VAGUE,
            sentence=sentence,
            self_declared_binding=_self_declared([sentence], prose),
            reason="reports a successful test but states no value",
        )
    return None


def _unhedged_match(pattern: re.Pattern[str], sentence: str) -> bool:
    # "If only that worked for me :(" is a complaint, not approval.
    match = pattern.search(sentence)
    return bool(match) and not _HEDGE_RE.search(sentence[: match.start()])


def _tested_fine(sentences: Sequence[str]) -> str | None:
    """ "Tested this ... In both cases, I experienced no trouble.": a test report, not a ballot.

    Both halves must be close and in that order; far apart they are usually
    unrelated ("probably no issues ... I haven't done any testing").
    """
    for index, sentence in enumerate(sentences):
        tested = _TESTED_RE.search(sentence)
        if not tested or _HEDGE_RE.search(sentence[: tested.start()]):
            continue
        for follower in sentences[index : index + 2]:
            if _NO_TROUBLE_RE.search(follower):
                return sentence if follower is sentence else f"{sentence} {follower}"
    return None


def parse_ballot(text: str) -> BallotReading:
    """Read a post's new text as a ballot.

    Template lines, logs, code, diffs, quotes and value mentions ("a +1",
    "+1's", "one more +1") never count; several different values, a
    condition, or vote-like wording without a value make the reading ambiguous.
    """
    lines = _prose_lines(text)
    template = _template_lines(lines)
    hits: list[_Hit] = []
    for index, line in enumerate(lines):
        if line and index not in template and not _is_result_like(line):
            hits.extend(_hits_in_line(line))
    prose = " ".join(line for i, line in enumerate(lines) if line and i not in template)
    ballots = [h for h in hits if h.sort is _Sort.BALLOT]
    if ballots:
        reading = _explicit_reading(ballots, prose)
        justification = _justification(lines, template, ballots)
        return replace(reading, justification=justification) if reading.is_vote else reading
    conditional = [h for h in hits if h.sort is _Sort.CONDITIONAL]
    if conditional:
        values = {h.value for h in conditional}
        return BallotReading(
            ReadingKind.CONDITIONAL,
            value=values.pop() if len(values) == 1 else None,
            sentence=_join_sentences(conditional),
            self_declared_binding=_self_declared([h.sentence for h in conditional], prose),
            reason="the value is made conditional",
        )
    unsure = [h for h in hits if h.sort is _Sort.UNSURE]
    if unsure:
        return BallotReading(
            ReadingKind.VAGUE,
            sentence=_join_sentences(unsure),
            self_declared_binding=_self_declared([h.sentence for h in unsure], prose),
            reason="a value is mentioned but not clearly cast",
        )
    return _vague_reading(lines, prose) or BallotReading(ReadingKind.NONE)


def _explicit_reading(ballots: Sequence[_Hit], prose: str) -> BallotReading:
    # +0 and -0 are different opinions, so compare the formatted value, not the float.
    values = {format_value(h.value): h.value for h in ballots}
    sentences = [h.sentence for h in ballots]
    declared = _self_declared(sentences, prose)
    if len(values) > 1:
        return BallotReading(
            ReadingKind.CONFLICT,
            sentence=_join_sentences(ballots),
            self_declared_binding=declared,
            reason="conflicting values: " + ", ".join(values),
        )
    return BallotReading(
        ReadingKind.VOTE,
        value=ballots[0].value,
        sentence=ballots[0].sentence,
        self_declared_binding=declared,
    )


def _join_sentences(hits: Sequence[_Hit]) -> str:
    return " / ".join(dict.fromkeys(h.sentence for h in hits))


# --------------------------------------------------------------------------
# The vote call: its period
# --------------------------------------------------------------------------

_NUMBER_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NUMBER_WORDS = {word: number for number, word in enumerate(_NUMBER_NAMES)} | {
    "ten": 10,
    "fourteen": 14,
    "seventy-two": 72,
    "seventy two": 72,
}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {month: number for number, month in enumerate(_MONTH_NAMES, start=1)}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIOD_CONTEXT_RE = re.compile(
    r"\b(?:vote|voting|open|close[sd]?|closing|lazy|objections?)\b", re.I
)
_DURATION_RE = re.compile(
    r"\b(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|fourteen|seventy[- ]two)\s*-?\s*"
    r"(?P<unit>hours?|hrs?|h|days?|business days?|weeks?)\b",
    re.IGNORECASE,
)
_CLOSE_WORD_RE = re.compile(r"\b(?:close[sd]?|closing|ends?|ending|until|till|deadline)\b", re.I)
_ABOUT_VOTE_RE = re.compile(r"\b(?:vote|voting|poll|ballot)\b", re.IGNORECASE)
_MONTH_RE = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# A time needs ":mm" or am/pm, so the year in "Dec 2017" is never read as 20:17.
_TIME_RE = (
    r"(?:,?\s*(?:at\s+)?(?P<hour>\d{1,2})(?=:\d{2}|\s*[ap]m\b)(?::(?P<minute>\d{2}))?"
    r"\s*(?P<ampm>am|pm)?\s*(?P<tz>UTC|GMT|Z)?(?!\d))?"
)
_ISO_DATE_RE = re.compile(
    r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::\d{2})?\s*(?P<tz>UTC|GMT|Z)?)?",
    re.IGNORECASE,
)
_MONTH_DAY_RE = re.compile(
    _MONTH_RE + r"\s+(?P<day>\d{1,2})(?!\d)(?:st|nd|rd|th)?(?:,?\s*(?P<year>\d{4}))?" + _TIME_RE,
    re.IGNORECASE,
)
_DAY_MONTH_RE = re.compile(
    r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MONTH_RE
    + r"(?:,?\s*(?P<year>\d{4}))?"
    + _TIME_RE,
    re.IGNORECASE,
)
_AT_LEAST_RE = re.compile(r"\bat least\b|\bminimum\b|\bor (?:more|longer)\b", re.I)
_WEEKDAY_RE = re.compile(r"\b(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)


def parse_call(
    text: str, opened_at: datetime, *, min_duration: timedelta = timedelta(hours=72)
) -> CallTerms:
    """When a vote called at ``opened_at`` closes: the stated date or duration, never
    earlier than the policy's minimum."""
    minimum = opened_at + min_duration
    stated, sentence = _stated_close(text, opened_at)
    closes = minimum if stated is None else max(stated, minimum)
    at_least = stated is None or bool(_AT_LEAST_RE.search(sentence))
    return CallTerms(opened_at, closes, minimum, stated, sentence, at_least)


def _stated_close(text: str, opened_at: datetime) -> tuple[datetime | None, str]:
    lines = [line for line in text.splitlines() if not _QUOTED_RE.match(line)]
    sentences = _paragraph_sentences([line.strip() for line in lines])
    for sentence in sentences:
        # "issues closed on Nov 3" is not the vote's close date.
        close_word = _CLOSE_WORD_RE.search(sentence) if _ABOUT_VOTE_RE.search(sentence) else None
        found = _close_date(sentence[close_word.end() :], opened_at) if close_word else None
        if found is not None:
            return found, sentence
    for sentence in sentences:
        if _PERIOD_CONTEXT_RE.search(sentence):
            match = _DURATION_RE.search(sentence)
            if match:
                return opened_at + _duration(match), sentence
    return None, ""


def _duration(match: re.Match[str]) -> timedelta:
    raw = match.group("n").casefold()
    amount = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    unit = match.group("unit").casefold()
    if unit.startswith("h"):
        return timedelta(hours=amount)
    if unit.startswith("w"):
        return timedelta(weeks=amount)
    return timedelta(days=amount)


def _close_date(text: str, opened_at: datetime) -> datetime | None:
    tz = opened_at.tzinfo
    iso = _ISO_DATE_RE.search(text)
    if iso:
        day = date(int(iso["year"]), int(iso["mon"]), int(iso["day"]))
        return _at_time(day, iso["hour"], iso["minute"], None, iso["tz"], tz)
    for pattern in (_MONTH_DAY_RE, _DAY_MONTH_RE):
        match = pattern.search(text)
        if match:
            month = _MONTHS[match["month"][:3].casefold()]
            year = int(match["year"]) if match["year"] else opened_at.year
            day = date(year, month, int(match["day"]))
            if not match["year"] and day < opened_at.date() - timedelta(days=1):
                day = day.replace(year=year + 1)
            return _at_time(day, match["hour"], match["minute"], match["ampm"], match["tz"], tz)
    weekday = _WEEKDAY_RE.search(text)
    if weekday:
        target = _WEEKDAYS.index(weekday["weekday"].casefold())
        ahead = (target - opened_at.weekday() - 1) % 7 + 1
        return _at_time(opened_at.date() + timedelta(days=ahead), None, None, None, None, tz)
    return None


def _at_time(
    day: date,
    hour: str | None,
    minute: str | None,
    ampm: str | None,
    tz_name: str | None,
    tz: tzinfo | None,
) -> datetime:
    # Without a stated time the vote runs to the end of that day, in the caller's zone.
    zone = UTC if tz_name else tz
    if hour is None:
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=zone)
    clock = int(hour)
    if ampm:
        clock = clock % 12 + (12 if ampm.casefold() == "pm" else 0)
    return datetime(day.year, day.month, day.day, clock, int(minute or 0), tzinfo=zone)


# --------------------------------------------------------------------------
# Tally
# --------------------------------------------------------------------------

_RESULT_SUBJECT_RE = re.compile(r"\[\s*(?:RESULT|CANCEL(?:L?ED)?)\s*\]", re.IGNORECASE)


def resolve_voter(author: Person, identities: IdentityMap | None) -> tuple[str, bool]:
    """The person behind an author identity, and whether the identity map knew them."""
    if identities is None:
        return author.display, True
    for identity in (author.address, author.name):
        person = identities.resolve(identity)
        if person is not None:
            return person, True
    return author.display, False


def _identity_label(author: Person) -> str:
    if author.name and author.address:
        return f"{author.name} <{author.address}>"
    return author.display


def _ballot_posts(replies: Iterable[Post], call: Post, until: datetime) -> list[Post]:
    # RESULT/CANCEL mails announce, they do not vote; re-delivered posts count once.
    seen: dict[str, Post] = {}
    for post in replies:
        if post.key == call.key or post.auto_submitted or post.created_at > until:
            continue
        if _RESULT_SUBJECT_RE.search(post.subject):
            continue
        seen.setdefault(post.key, post)
    return sorted(seen.values(), key=lambda p: (p.created_at, p.key))


def collect_ballots(
    call: Post,
    replies: Iterable[Post],
    *,
    until: datetime,
    roster: Roster | None = None,
    identities: IdentityMap | None = None,
) -> Tally:
    """Every voter's standing ballot, binding as of the call, counted."""
    casts: dict[str, list[tuple[str, Cast]]] = {}
    unmatched: set[str] = set()
    call_reading = parse_ballot(call.text)
    posts = _ballot_posts(replies, call, until)
    # The call's author votes by the call only with an explicit ballot in it.
    sources = [(call, call_reading)] if call_reading.is_vote else []
    sources += [(post, parse_ballot(post.text)) for post in posts]
    for post, reading in sources:
        if reading.kind is ReadingKind.NONE:
            continue
        voter, known = resolve_voter(post.author, identities)
        if not known:
            unmatched.add(_identity_label(post.author))
        cast = Cast(post.key, post.url, post.created_at, _identity_label(post.author), reading)
        casts.setdefault(name_key(voter), []).append((voter, cast))
    ballots = tuple(
        _standing_ballot(entries, roster, call.created_at) for entries in casts.values()
    )
    return count_ballots(
        ballots, binding_known=roster is not None, unmatched=tuple(sorted(unmatched))
    )


def _standing_ballot(
    entries: Sequence[tuple[str, Cast]], roster: Roster | None, opened_at: datetime
) -> Ballot:
    """The latest non-vague cast stands; vague wording never overrides an explicit ballot."""
    ordered = [cast for _, cast in entries]
    firm = [c for c in ordered if c.reading.kind is not ReadingKind.VAGUE]
    standing = firm[-1] if firm else ordered[-1]
    voter = entries[0][0]
    binding = None if roster is None else roster.is_binding(voter, opened_at)
    aliases = tuple(dict.fromkeys(c.identity for c in ordered))
    history = tuple(c for c in ordered if c is not standing)
    return Ballot(voter, binding, standing, history, aliases)


def count_ballots(
    ballots: Sequence[Ballot], *, binding_known: bool, unmatched: tuple[str, ...] = ()
) -> Tally:
    buckets = [b.bucket for b in ballots]

    def binding_count(bucket: int) -> int | None:
        if not binding_known:
            return None
        return sum(1 for b in ballots if b.bucket == bucket and b.binding)

    return Tally(
        ballots=tuple(ballots),
        plus=buckets.count(1),
        zero=buckets.count(0),
        minus=buckets.count(-1),
        binding_plus=binding_count(1),
        binding_zero=binding_count(0),
        binding_minus=binding_count(-1),
        ambiguous=sum(1 for b in ballots if b.ambiguous),
        unmatched_identities=unmatched,
    )


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------


def _states_reason(ballot: Ballot) -> bool:
    return len(_WORD_RE.findall(ballot.cast.reading.justification)) >= 3


@dataclass(frozen=True, slots=True)
class _Counts:
    """What every rule looks at, computed once."""

    plus: tuple[Ballot, ...]  # binding +1 (potentially binding without a roster)
    minus: tuple[Ballot, ...]  # binding -1
    basis_plus: int  # the "more + than -" sides, per MajorityBasis
    basis_minus: int
    basis: str
    word: str
    unknown: bool


def decide(tally: Tally, policy: VotePolicy) -> Outcome:
    """What the rule says if the vote closed now (the caller decides whether it has)."""
    unknown = not tally.binding_known
    # Without a roster every ballot is potentially binding; the outcome says so.
    binding = [b for b in tally.ballots if b.counted and (unknown or b.binding)]
    plus = tuple(b for b in binding if b.bucket == 1)
    minus = tuple(b for b in binding if b.bucket == -1)
    by_binding = policy.majority_basis is MajorityBasis.BINDING
    counts = _Counts(
        plus=plus,
        minus=minus,
        basis_plus=len(plus) if by_binding else tally.plus,
        basis_minus=len(minus) if by_binding else tally.minus,
        basis="binding " if by_binding else "",
        word="potentially binding" if unknown else "binding",
        unknown=unknown,
    )
    return _RULES[policy.rule](counts, policy)


def _simple_majority(c: _Counts, policy: VotePolicy) -> Outcome:
    reason = f"{c.basis_plus} {c.basis}+1 against {c.basis_minus} {c.basis}-1"
    return Outcome(c.basis_plus > c.basis_minus, (reason,), c.unknown)


def _majority_approval(c: _Counts, policy: VotePolicy) -> Outcome:
    quorum = len(c.plus) >= policy.min_binding_plus
    reasons = (
        f"{len(c.plus)} {c.word} +1 (need {policy.min_binding_plus})",
        f"{c.basis_plus} {c.basis}+1 against {c.basis_minus} {c.basis}-1",
    )
    return Outcome(quorum and c.basis_plus > c.basis_minus, reasons, c.unknown)


def _consensus_approval(c: _Counts, policy: VotePolicy) -> Outcome:
    valid = [b for b in c.minus if _states_reason(b) or not policy.veto_needs_reason]
    invalid = [b for b in c.minus if b not in valid]
    quorum = len(c.plus) >= policy.min_binding_plus
    reasons = [f"{len(c.plus)} {c.word} +1 (need {policy.min_binding_plus})"]
    reasons.append(f"{len(valid)} {c.word} veto(es)" if valid else f"no {c.word} veto")
    if invalid:
        reasons.append(f"{len(invalid)} -1 without a stated reason, not counted as a veto")
    return Outcome(
        quorum and not valid,
        tuple(reasons),
        c.unknown,
        vetoes=tuple(b.voter for b in valid),
        invalid_vetoes=tuple(b.voter for b in invalid),
    )


def _lazy_two_thirds(c: _Counts, policy: VotePolicy) -> Outcome:
    # Abstentions are not counted towards the minimum: three +0 must not pass a change.
    cast = len(c.plus) + len(c.minus)
    passes = cast >= policy.min_binding_votes and len(c.plus) >= 2 * len(c.minus)
    reasons = (
        f"{cast} {c.word} votes (need {policy.min_binding_votes})",
        f"{len(c.plus)} {c.word} +1 against {len(c.minus)} {c.word} -1 (need twice as many +1)",
    )
    return Outcome(passes, reasons, c.unknown)


def _lazy_consensus(c: _Counts, policy: VotePolicy) -> Outcome:
    reason = f"{len(c.minus)} {c.word} -1 (lazy consensus passes with none)"
    vetoes = tuple(b.voter for b in c.minus)
    return Outcome(not c.minus, (reason,), c.unknown, vetoes=vetoes)


_RULES = {
    Rule.SIMPLE_MAJORITY: _simple_majority,
    Rule.MAJORITY_APPROVAL: _majority_approval,
    Rule.CONSENSUS_APPROVAL: _consensus_approval,
    Rule.LAZY_TWO_THIRDS: _lazy_two_thirds,
    Rule.LAZY_CONSENSUS: _lazy_consensus,
}


# --------------------------------------------------------------------------
# RESULT mails
# --------------------------------------------------------------------------

_RESULT_VALUE_LINE_RE = re.compile(
    r"^\s*(?:[*•]\s*|-\s+)?(?P<pre>(?:non[- ]?)?binding\s+)?"
    r"(?P<val>[+\-−–]?\d(?:\.\d+)?)\s*(?:'?s)?\s*(?:votes?)?"
    r"\s*(?:\((?P<post>(?:non[- ]?)?binding)\))?\s*(?:votes?)?\s*[:=]\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_RESULT_FROM_RE = re.compile(
    r"(?<![\w+\-])(?P<val>[+\-−–]\d(?:\.\d+)?)(?:'?s)?\s+(?:votes?\s+)?from\s*:?\s*(?P<rest>.+)$",
    re.IGNORECASE,
)
_QUORUM_RE = re.compile(r"^\s*(?:PMC\s+)?quorum\b\s*:?\s*(?P<rest>.*)$", re.IGNORECASE)
_PASSED_RE = re.compile(
    r"\b(?:vote|release)\b[^.\n]{0,60}?\b(?:has\s+)?(?:passed|passes|succeeded|approved|carried)\b",
    re.IGNORECASE,
)
_FAILED_RE = re.compile(
    r"\b(?:vote|release)\b[^.\n]{0,60}?\b(?:has\s+)?"
    r"(?:failed|fails|did not pass|not passed|rejected)\b",
    re.IGNORECASE,
)
_CANCELLED_RE = re.compile(r"\bcancel(?:l)?(?:ed|ing)?\b", re.IGNORECASE)
_COUNT_REST_RE = re.compile(
    r"^(?P<count>\d+)\b(?:\s*\(\s*(?P<binding>\d+)\s+binding\b[^)]*\))?", re.IGNORECASE
)
_NAME_STOP_RE = re.compile(
    r":|^(?:i|we|the|this|thanks?|regards|cheers|best|vote|pmc)\b", re.IGNORECASE
)
_BINDING_MARK_RE = re.compile(r"\(\s*binding\s*\)|\*+$", re.IGNORECASE)
# "The vote has passed with the following result: +1 (binding): a, b" on one line.
_INLINE_ENTRY_RE = re.compile(r"(?<=:)\s+(?=[+\-−–]\d(?:\.\d+)?\s*(?:\(|'?s\b|:|votes?\b))")
_FREE_COUNT_RE = re.compile(
    r"\b(?P<n>\d+)\s+(?:(?P<kind>non[- ]?binding|binding)\s+)?(?P<val>[+\-−–]1)(?:'?s)?"
    r"(?:\s+votes?)?\b",
    re.IGNORECASE,
)
_NON_BINDING_MARK_RE = re.compile(r"\(\s*non[- ]?binding\s*\)", re.IGNORECASE)


@dataclass(slots=True)
class _EntryDraft:
    value: float
    count: int | None = None
    binding_count: int | None = None
    non_binding_count: int | None = None
    names: list[str] = field(default_factory=list)
    binding_names: list[str] = field(default_factory=list)


def _result_lines(text: str) -> list[str]:
    kept: list[str] = []
    for line in text.splitlines():
        if line.rstrip() in _SIG_DELIMITERS or _CUT_RE.match(line):
            break
        if _QUOTED_RE.match(line) or _FOOTER_RE.match(line):
            continue
        if _ATTRIBUTION_RE.search(line):
            break  # what follows is the quoted call, template lines and all
        kept.extend(part.rstrip() for part in _INLINE_ENTRY_RE.split(line))
    return kept


def _continuation(lines: Sequence[str], start: int, rest: str) -> tuple[str, int]:
    """Names wrapped over lines, or listed one per line after an empty ``+1:``."""
    index = start
    pieces = [rest.strip()] if rest.strip() else []
    one_per_line = not pieces
    while index < len(lines):
        line = lines[index].strip()
        if not line:
            if one_per_line and not pieces:
                index += 1
                continue
            break
        if (
            _RESULT_VALUE_LINE_RE.match(line)
            or _QUORUM_RE.match(line)
            or _NAME_STOP_RE.search(line)
            or len(line.split()) > 6
        ):
            break
        if not one_per_line and pieces and (pieces[-1].endswith(",") or len(line.split()) == 1):
            pieces[-1] = f"{pieces[-1]} {line}"
        else:
            pieces.append(line)
        index += 1
    return ", ".join(p.rstrip(",") for p in pieces), index


def _split_names(rest: str) -> tuple[list[str], list[str]]:
    names: list[str] = []
    binding: list[str] = []
    for part in re.split(r",|;|&|\band\b", rest):
        raw = part.strip().rstrip(".")
        is_binding = bool(_BINDING_MARK_RE.search(raw))
        clean = _NON_BINDING_MARK_RE.sub("", _BINDING_MARK_RE.sub("", raw)).strip(" *-")
        if not clean or clean.casefold() in {"none", "nobody", "no one", "n/a"}:
            continue
        names.append(clean)
        if is_binding:
            binding.append(clean)
    return names, binding


def _apply_rest(draft: _EntryDraft, rest: str, binding_flag: bool | None) -> None:
    counted = _COUNT_REST_RE.match(rest.strip())
    if counted:
        count = int(counted["count"])
        draft.count = (draft.count or 0) + count
        if counted["binding"]:
            draft.binding_count = (draft.binding_count or 0) + int(counted["binding"])
        elif binding_flag:
            draft.binding_count = (draft.binding_count or 0) + count
        return
    names, binding = _split_names(rest)
    draft.names.extend(names)
    draft.binding_names.extend(names if binding_flag else binding)


def _binding_flag(*labels: str | None) -> bool | None:
    for label in labels:
        if label:
            return not label.casefold().startswith("non")
    return None


def parse_result(text: str) -> AnnouncedResult:
    """Read a RESULT mail: counts, binding counts and names per value, as announced."""
    lines = _result_lines(text)
    drafts: dict[int, _EntryDraft] = {}
    binding_names: list[str] = []
    quorum: bool | None = None
    used: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        value_line = _RESULT_VALUE_LINE_RE.match(line) or _RESULT_FROM_RE.search(line)
        quorum_line = _QUORUM_RE.match(line)
        if value_line and not re.match(r"^\s*\[", line):
            value = _signed(value_line["val"])
            flag = _binding_flag(
                value_line.groupdict().get("pre"), value_line.groupdict().get("post")
            )
            rest, index = _continuation(lines, index + 1, value_line["rest"])
            draft = drafts.setdefault(_bucket(value), _EntryDraft(value))
            _apply_rest(draft, rest, flag)
            used.append(line.strip())
            continue
        if quorum_line:
            quorum, names = _quorum(quorum_line["rest"])
            binding_names.extend(names)
            used.append(line.strip())
        else:
            _free_counts(line, drafts)
        index += 1
    entries = tuple(_entry(d) for _, d in sorted(drafts.items(), reverse=True))
    return AnnouncedResult(
        outcome=_announced_outcome(lines),
        entries=entries,
        binding_names=tuple(dict.fromkeys(binding_names)),
        quorum_reached=quorum,
        lines=tuple(used),
    )


def _signed(text: str) -> float:
    sign = text[0] if text[0] in "+-−–" else None
    return _value_of(sign, text.lstrip("+-−–"))


def _free_counts(line: str, drafts: dict[int, _EntryDraft]) -> None:
    """Counts written as prose: "passed with 4 binding +1 votes and 2 non-binding +1 votes"."""
    for match in _FREE_COUNT_RE.finditer(line):
        value = _signed(match["val"])
        draft = drafts.setdefault(_bucket(value), _EntryDraft(value))
        amount = int(match["n"])
        kind = (match["kind"] or "").casefold()
        if kind == "binding" and draft.binding_count is None:
            draft.binding_count = amount
        elif kind.startswith("non") and draft.non_binding_count is None:
            draft.non_binding_count = amount
        elif not kind and draft.count is None:
            draft.count = amount


def _quorum(rest: str) -> tuple[bool | None, list[str]]:
    text = rest.strip().rstrip(".")
    if not text:
        return None, []
    if re.search(r"\b(?:not|no|failed)\b", text, re.IGNORECASE):
        return False, []
    if re.fullmatch(r"(?:is\s+|was\s+|has\s+been\s+)?reached|met|ok|yes", text, re.IGNORECASE):
        return True, []
    names, _ = _split_names(text)
    return True, names


def _entry(draft: _EntryDraft) -> AnnouncedEntry:
    names = tuple(dict.fromkeys(draft.names))
    binding_names = tuple(dict.fromkeys(draft.binding_names))
    binding = draft.binding_count
    if binding is None and binding_names:
        binding = len(binding_names)
    count = draft.count
    if count is None and names:
        count = len(names)
    if count is None and (binding is not None or draft.non_binding_count is not None):
        count = (binding or 0) + (draft.non_binding_count or 0)
    return AnnouncedEntry(draft.value, count, binding, names, binding_names)


def _announced_outcome(lines: Sequence[str]) -> VoteState | None:
    text = " ".join(lines)
    if _FAILED_RE.search(text):
        return VoteState.FAILED
    if _PASSED_RE.search(text):
        return VoteState.PASSED
    if _CANCELLED_RE.search(text):
        return VoteState.CANCELLED
    return None


# --------------------------------------------------------------------------
# Comparing a tally with an announcement
# --------------------------------------------------------------------------


def _candidate_names(ballot: Ballot) -> list[str]:
    names = [ballot.voter]
    for alias in ballot.aliases:
        display, _, address = alias.partition(" <")
        names.append(display)
        if address:
            names.append(address.rstrip(">").split("@")[0])
    return [n for n in names if n]


def _match_score(announced: str, known: str) -> int:
    a, k = name_key(announced), name_key(known)
    if not a or not k:
        return 0
    if a == k or a.replace(" ", "") == k.replace(" ", ""):
        return 3
    a_tokens, k_tokens = set(a.split()), set(k.split())
    if a_tokens <= k_tokens:
        return 2  # "Olivier" for "Olivier Lamy"
    if k_tokens <= a_tokens:
        return 1
    return 0


def voter_candidates(name: str, ballots: Sequence[Ballot]) -> list[Ballot]:
    """The ballots an announced name fits best ("Robert" may fit two Roberts)."""
    scored = [(max(_match_score(name, n) for n in _candidate_names(b)), b) for b in ballots]
    best = max((score for score, _ in scored), default=0)
    return [b for score, b in scored if score == best] if best else []


def match_voter(name: str, ballots: Sequence[Ballot]) -> Ballot | None:
    """The one ballot an announced name refers to, or None when none or several fit."""
    candidates = voter_candidates(name, ballots)
    return candidates[0] if len(candidates) == 1 else None


def compare(tally: Tally, announced: AnnouncedResult) -> list[Discrepancy]:
    """Where the RESULT mail and our reading of the thread differ, voter by voter."""
    found: list[Discrepancy] = []
    matched: dict[int, set[str]] = {1: set(), 0: set(), -1: set()}
    for entry in announced.entries:
        bucket = _bucket(entry.value)
        for name in entry.names:
            found.extend(_check_announced_name(name, entry.value, tally, matched[bucket]))
        if not entry.names and entry.count is not None:
            found.extend(_check_count(entry, tally))
    found.extend(_unannounced(tally, announced, matched))
    found.extend(_check_binding(tally, announced))
    return found


def _check_announced_name(
    name: str, value: float, tally: Tally, matched: set[str]
) -> list[Discrepancy]:
    candidates = voter_candidates(name, tally.ballots)
    label = format_value(value)
    if not candidates:
        detail = f"announced as {label}; no ballot found in the thread"
        return [Discrepancy("not-in-thread", (name,), detail)]
    if len(candidates) > 1:
        voters = tuple(b.voter for b in candidates)
        matched.update(voters)
        detail = f"announced as {label}; {name!r} could be any of {', '.join(voters)}"
        return [Discrepancy("name-unresolved", voters, detail)]
    ballot = candidates[0]
    matched.add(ballot.voter)
    if ballot.ambiguous:
        detail = f"announced as {label}; the ballot was ambiguous: {ballot.cast.reading.sentence!r}"
        return [Discrepancy("ambiguous-counted", (ballot.voter,), detail)]
    if ballot.bucket != _bucket(value):
        detail = f"announced as {label}; voted {ballot.label}"
        return [Discrepancy("value-differs", (ballot.voter,), detail)]
    return []


def _check_count(entry: AnnouncedEntry, tally: Tally) -> list[Discrepancy]:
    bucket = _bucket(entry.value)
    ours = {1: tally.plus, 0: tally.zero, -1: tally.minus}[bucket]
    # The release manager may have counted ambiguous ballots; that is a judgement, not an error.
    if entry.count is not None and ours <= entry.count <= ours + tally.ambiguous:
        return []
    detail = f"announced {entry.count} x {format_value(entry.value)}; the thread has {ours}"
    return [Discrepancy("count-differs", (), detail)]


def _unannounced(
    tally: Tally, announced: AnnouncedResult, matched: dict[int, set[str]]
) -> list[Discrepancy]:
    if not announced.entries:
        return []
    found: list[Discrepancy] = []
    for ballot in tally.ballots:
        if not ballot.counted:
            continue
        entry = next((e for e in announced.entries if _bucket(e.value) == ballot.bucket), None)
        if entry is not None and not entry.names:
            continue  # a count-only line was checked as a count
        if any(ballot.voter in voters for voters in matched.values()):
            continue  # named under another value: reported as value-differs
        detail = f"voted {ballot.label} in the thread; not in the announcement"
        found.append(Discrepancy("not-in-announcement", (ballot.voter,), detail))
    return found


def _check_binding(tally: Tally, announced: AnnouncedResult) -> list[Discrepancy]:
    if not tally.binding_known:
        return []
    found: list[Discrepancy] = []
    plus_entry = announced.entry(1.0)
    names = list(announced.binding_names) + list(plus_entry.binding_names if plus_entry else ())
    announced_binding: set[str] = set()
    for name in dict.fromkeys(names):
        ballot = match_voter(name, tally.ballots)
        if ballot is None:
            continue
        announced_binding.add(ballot.voter)
        if ballot.binding is False:
            detail = "announced as binding; not on the roster when the vote opened"
            found.append(Discrepancy("binding-differs", (ballot.voter,), detail))
    if names:
        for ballot in tally.ballots:
            if ballot.binding and ballot.bucket == 1 and ballot.voter not in announced_binding:
                detail = "binding on the roster; not announced as binding"
                found.append(Discrepancy("binding-differs", (ballot.voter,), detail))
    if (
        plus_entry
        and plus_entry.binding_count is not None
        and plus_entry.binding_count != tally.binding_plus
    ):
        detail = (
            f"announced {plus_entry.binding_count} binding +1; "
            f"the roster gives {tally.binding_plus}"
        )
        found.append(Discrepancy("binding-count-differs", (), detail))
    return found


# --------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------


def report_vote(
    call: Post,
    replies: Iterable[Post],
    *,
    now: datetime,
    policy: VotePolicy | None = None,
    roster: Roster | None = None,
    identities: IdentityMap | None = None,
    result: Post | None = None,
    cancel: Post | None = None,
) -> VoteReport:
    """Everything known about one vote thread as of ``now``."""
    policy = policy or VotePolicy()
    terms = parse_call(call.text, call.created_at, min_duration=policy.min_duration)
    result = result if result is not None and result.created_at <= now else None
    cancel = cancel if cancel is not None and cancel.created_at <= now else None
    # Ballots count until someone closes the vote; ASF practice accepts late
    # ballots until the RESULT mail, so the period end is flagged, not a cut-off.
    until = min([now] + [p.created_at for p in (result, cancel) if p is not None])
    tally = collect_ballots(call, replies, until=until, roster=roster, identities=identities)
    outcome = decide(tally, policy)
    state = _state(outcome, terms, now, result, cancel)
    announced = parse_result(result.text) if result is not None else None
    discrepancies = tuple(compare(tally, announced)) if announced is not None else ()
    return VoteReport(
        thread=call.thread_key,
        subject=call.subject,
        state=state,
        policy=policy,
        opened_at=terms.opened_at,
        closes_at=terms.closes_at,
        time_left=terms.closes_at - now if state is VoteState.OPEN else None,
        would_pass_now=outcome.passes if state is VoteState.OPEN else None,
        tally=tally,
        outcome=outcome,
        announced=announced,
        agrees_with_announced=_agrees(state, announced, discrepancies),
        discrepancies=discrepancies,
        flags=tuple(_flags(tally, outcome, terms, policy, result)),
    )


def _state(
    outcome: Outcome, terms: CallTerms, now: datetime, result: Post | None, cancel: Post | None
) -> VoteState:
    if cancel is not None:
        return VoteState.CANCELLED
    if result is None and now < terms.closes_at:
        return VoteState.OPEN
    return VoteState.PASSED if outcome.passes else VoteState.FAILED


def _agrees(
    state: VoteState, announced: AnnouncedResult | None, discrepancies: Sequence[Discrepancy]
) -> bool | None:
    if announced is None:
        return None
    if announced.outcome is not None and announced.outcome is not state:
        return False
    return not any(not d.soft for d in discrepancies)


def _flags(
    tally: Tally, outcome: Outcome, terms: CallTerms, policy: VotePolicy, result: Post | None
) -> list[Flag]:
    flags: list[Flag] = []
    if result is not None and result.created_at < terms.closes_at:
        hours = (result.created_at - terms.opened_at).total_seconds() / 3600
        needed = (terms.closes_at - terms.opened_at).total_seconds() / 3600
        flags.append(
            Flag("early-result", f"RESULT after {hours:.1f} hours; the vote ran {needed:g} hours")
        )
    if terms.stated_closes_at is not None and terms.stated_closes_at < terms.minimum_closes_at:
        flags.append(
            Flag(
                "short-period", f"the call states a close before the {policy.min_duration} minimum"
            )
        )
    if terms.stated_closes_at is None:
        flags.append(Flag("period-not-stated", "the call states no period; the minimum applies"))
    if outcome.binding_unknown:
        flags.append(
            Flag(
                "binding-unknown",
                "no roster configured: every ballot treated as potentially binding",
            )
        )
    if outcome.invalid_vetoes:
        flags.append(
            Flag(
                "invalid-veto",
                "-1 without a stated reason; not counted as a veto",
                outcome.invalid_vetoes,
            )
        )
    if tally.unmatched_identities:
        flags.append(
            Flag("unmatched-identity", "not in the identity map", tally.unmatched_identities)
        )
    flags.extend(_ballot_flags(tally, terms))
    return flags


def _ballot_flags(tally: Tally, terms: CallTerms) -> list[Flag]:
    flags: list[Flag] = []
    for ballot in tally.ballots:
        reading = ballot.cast.reading
        if reading.ambiguous:
            flags.append(
                Flag("ambiguous-ballot", f"{reading.reason}: {reading.sentence!r}", (ballot.voter,))
            )
        if reading.self_declared_binding and ballot.binding is False:
            detail = "declared binding but not on the roster when the vote opened"
            flags.append(Flag("binding-claim-ignored", detail, (ballot.voter,)))
        if ballot.counted and not terms.stated_is_minimum and ballot.cast.at > terms.closes_at:
            flags.append(Flag("late-ballot", "cast after the stated close", (ballot.voter,)))
    return flags


def _ballot_dict(ballot: Ballot) -> dict[str, object]:
    return {
        "voter": ballot.voter,
        "value": ballot.value,
        "vote": None if ballot.value is None else format_value(ballot.value),
        "binding": ballot.binding,
        "self_declared_binding": ballot.cast.reading.self_declared_binding,
        "counted": ballot.counted,
        "ambiguous": ballot.ambiguous,
        "reason": ballot.cast.reading.reason,
        "post": ballot.cast.post,
        "url": ballot.cast.url,
        "at": ballot.cast.at.isoformat(),
        "sentence": ballot.cast.reading.sentence,
        "history": [
            {
                "post": c.post,
                "at": c.at.isoformat(),
                "value": c.reading.value,
                "kind": str(c.reading.kind),
                "sentence": c.reading.sentence,
            }
            for c in ballot.history
        ],
    }


def _announced_dict(announced: AnnouncedResult) -> dict[str, object]:
    return {
        "outcome": None if announced.outcome is None else str(announced.outcome),
        "quorum_reached": announced.quorum_reached,
        "binding_names": list(announced.binding_names),
        "entries": [
            {
                "value": e.value,
                "vote": format_value(e.value),
                "count": e.count,
                "binding_count": e.binding_count,
                "names": list(e.names),
                "binding_names": list(e.binding_names),
            }
            for e in announced.entries
        ],
    }
