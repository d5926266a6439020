"""RESULT mails: reading what the release manager announced, and checking it.

:func:`parse_result` reads the many ways a RESULT mail lists counts and names;
:func:`compare` sets that against our :class:`Tally` voter by voter, matching
announced names ("Herve", "Robert") to ballots loosely, and reports every
difference as a :class:`Discrepancy` naming whom it concerns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot.core.people import name_key
from bot.core.text import is_attribution, new_lines
from bot.core.votes.grammar import paragraph_sentences
from bot.core.votes.policy import VoteState, binds
from bot.core.votes.prose import own_clause, prose_lines
from bot.core.votes.tally import Ballot, Tally
from bot.core.votes.values import (
    NUMBER_WORDS,
    bucket_of,
    format_value,
    number_of,
    signed_value,
    worded_value,
)


@dataclass(frozen=True, slots=True)
class AnnouncedEntry:
    """One value's line(s) in a RESULT mail."""

    value: float
    count: int | None = None
    binding_count: int | None = None
    names: tuple[str, ...] = ()
    binding_names: tuple[str, ...] = ()
    # Names the RESULT says voted outside the thread: "Mirela Novak (sent to me directly)".
    elsewhere: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnnouncedResult:
    outcome: VoteState | None
    entries: tuple[AnnouncedEntry, ...]
    binding_names: tuple[str, ...] = ()
    quorum_reached: bool | None = None
    lines: tuple[str, ...] = ()
    # Who sent it, when known (naming_author): a release manager counts their own +1.
    sender: str = ""

    def entry(self, value: float) -> AnnouncedEntry | None:
        bucket = bucket_of(value)
        return next((e for e in self.entries if bucket_of(e.value) == bucket), None)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A difference between our tally and a RESULT mail, naming who it concerns."""

    kind: str
    voters: tuple[str, ...]
    detail: str

    @property
    def soft(self) -> bool:
        # The release manager interpreting an ambiguous ballot, or naming a voter by a
        # first name two voters share, is reported but is no error. Nor is a total
        # miscounted ("It passes with 6 +1 votes" where one voter's two mails are five
        # ballots): it is reported, but the RESULT agrees with the thread when its outcome
        # and every ballot it names do (a careful reader says the same of a RESULT that
        # writes "(4 binding)" over the three it marks).
        # A RESULT that lists the binding ballots only ("In favour: <the TSC members>")
        # may leave out a +1 or a 0 that does not bind, and its outcome stands.
        # Nor is a ballot the RESULT says it took outside the thread ("(sent to me
        # directly)"): what it counts is shown, and a reader can ask the voter.
        # Nor the sender counting their own +1 without a ballot of their own in the
        # thread, as release managers do: the RESULT says it, from the sender's address.
        return self.kind in (
            "cast-elsewhere",
            "senders-own-ballot",
            "ambiguous-counted",
            "name-unresolved",
            "non-binding-not-announced",
            "count-differs",
            "binding-count-differs",
        )


_RESULT_VALUE_LINE_RE = re.compile(
    r"^\s*(?:[*•]\s*|-\s+)?(?P<pre>(?:non[- ]?)?binding\s+)?"
    r"(?P<val>[+\-−–]?\d(?:\.\d+)?)\s*(?:'?s)?\s*(?:votes?)?"
    r"\s*(?:\(?(?P<post>(?:non[- ]?)?binding)\)?)?\s*(?:votes?)?"
    # "Binding +1 (maintainers): ...": whose ballots these are.
    r"(?:\s*\([^()]{1,40}\))?\s*[:=]\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
# A tally laid out in columns, under "Binding:" or not: "  +1  Ann Lee, Bob Roe",
# "   0  Clara Jensen" (a zero needs no sign; two spaces or a tab stand for the colon).
_RESULT_COLUMN_LINE_RE = re.compile(
    r"^\s*(?P<val>[+\-−–]\d(?:\.\d+)?|0)(?:\s*\((?P<post>(?:non[- ]?)?binding)\))?"
    r"(?:\t|\s{2,})\s*(?P<rest>[^\W\d].*)$",
    re.IGNORECASE,
)
# "+1 from ada-w, rkovacs and noor-h", "0 from pbeaumont" (a zero needs no sign).
_RESULT_FROM_RE = re.compile(
    r"(?<![\w+\-.])(?P<val>[+\-−–]\d(?:\.\d+)?|0)(?:'?s)?\s+(?:votes?\s+)?from\s*:?\s*"
    # ("the +1 from the user side" names no one.)
    r"(?!\s|(?:the|a|an|our|their|my|your|his|her)\s)(?P<rest>.+)$",
    re.IGNORECASE,
)
_QUORUM_RE = re.compile(r"^\s*(?:PMC\s+)?quorum\b\s*:?\s*(?P<rest>.*)$", re.IGNORECASE)
# Within one sentence: a dot inside a version ("Apache Foo 1.2.0 RC1") does not end it.
_SAME_SENTENCE = r"(?:[^.\n]|\.(?=\w)){0,60}?"
# A policy or committee vote decides a motion: "4 votes to 1: the motion carries."
_PASSED_RE = re.compile(
    r"\b(?:vote|release|motion|proposal)\b" + _SAME_SENTENCE + r"\b(?:has\s+)?"
    r"(?:passed|passes|succeeded|approved|carried|carries|adopted|accepted)\b"
    # "we have unanimously approved this release"
    r"|\b(?:have|has)\s+(?:\w+\s+)?approved\s+(?:this|the)\s+(?:release|proposal|motion)\b"
    # "The 72 hours have passed without objections, so the lazy consensus holds."
    r"|\blazy\s+consensus\s+(?:holds|stands|passe[sd]|(?:is|has\s+been)\s+reached)\b",
    re.IGNORECASE,
)
_FAILED_RE = re.compile(
    r"\b(?:vote|release|motion|proposal)\b" + _SAME_SENTENCE + r"\b(?:has\s+)?"
    r"(?:failed|fails|did not pass|not passed|rejected|not (?:been )?(?:adopted|accepted))\b",
    re.IGNORECASE,
)
# A tally by words, as committees write it: "In favour: Ann, Bob", "Against: Carl".
_WORD_VALUE_LINE_RE = re.compile(
    r"^\s*(?:[*•]\s*|-\s+)?(?P<word>in\s+favou?r|against|abstain(?:ed|ing|s|ions?)?"
    # A pull request's vote by reviews: "Approve (+1): @ann, @bob", "Request changes: ...".
    r"|approved?|approvals?"
    # A motion's "yes: Ann, Bob" / "no: Carl" / "aye:" / "nay:".
    r"|yes|ayes?|no|nays?)\s*"
    # "In favour (5): ...", "In favour (+1): ...", "in favour (core team): ...": a count,
    # the value the word means, or whose ballots these are.
    r"(?:\([^()]{1,40}\))?\s*:\s*(?P<rest>\S.*)$",
    re.IGNORECASE,
)
_CANCELLED_RE = re.compile(
    r"\bcancel(?:l)?(?:ed|ing)?\b|\b(?:this|the)\s+(?:release\s+)?vote\s+(?:is|has\s+been)"
    r"\s+withdrawn\b|\bwithdrawing\s+(?:the|this)\s+vote\b",
    re.IGNORECASE,
)
_COUNT_REST_RE = re.compile(
    r"^(?P<count>\d+)\b(?:\s*\(\s*(?P<binding>\d+)\s+binding\b[^)]*\))?", re.IGNORECASE
)
_BULLET_RE = re.compile(r"^\s*[-*•]\s+\S")
_NAME_STOP_RE = re.compile(
    r":|^(?:i|we|the|this|thanks?|regards|cheers|best|vote|pmc)\b", re.IGNORECASE
)
_BINDING_MARK_RE = re.compile(r"\(\s*binding\s*\)|\*+$", re.IGNORECASE)
# "The vote has passed with the following result: +1 (binding): a, b" on one line.
_INLINE_ENTRY_RE = re.compile(
    r"(?<=:)\s+(?=[+\-−–]\d(?:\.\d+)?\s*(?:\(|'?s\b|:|votes?\b))"
    # "+1 from ada-w and noor-h; 0 from pbeaumont; no -1": one entry per clause.
    r"|(?<=[;,])\s+(?=(?:[+\-−–]\d(?:\.\d+)?|0)\s+from\b|no\s+[+\-−–]\d)"
)
# A count of ballots: a number, or one of "one" to "ten" written out.
_NUMBER = r"\d+|" + "|".join(word for word, n in NUMBER_WORDS.items() if 1 <= n <= 10)
# "4 approving votes, 3 of which are binding" and "no disapproving votes" (the template
# of Flink's and other projects' results) count +1 and -1 in words; "1 -0" counts a 0.
# A council's "5 of 7 council approvals (@a, ...), one abstention (@f)" counts in nouns.
_FREE_COUNT_RE = re.compile(
    rf"\b(?P<n>{_NUMBER})\s+(?:of\s+(?:the\s+)?\d+\s+)?(?:(?:council|team|committee)\s+)?[\"“]?"
    r"(?:(?P<kind>non[- ]?binding|binding)\s+)?(?P<val>[+\-−–][10]"
    r"|approving|affirmative|disapproving|approvals?|abstentions?)"
    rf"(?:'?s)?(?:\s+votes?)?\b[\"”]?(?:\s*\(\s*(?P<binding>{_NUMBER})\s+binding\s*\))?",
    re.IGNORECASE,
)
# "there must be at least 3 binding +1 votes": the rule, not the count.
_RULE_BEFORE_RE = re.compile(
    r"\b(?:at\s+least|must|needs?|needed|requires?|required|minimum|more\s+than|majority)\W*"
    r"(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
# A heading over a list of names: "+1 votes", "## -1 votes", "**+1 (binding)**", "+1".
_RESULT_HEADING_RE = re.compile(
    r"^\s*(?:#{1,6}\s+)?(?:\*\*|__)?(?P<val>[+\-−–]\d(?:\.\d+)?|\d(?=\s*[\"”]?\s*votes?\b))"
    r"\s*(?:'?s)?\s*[\"”]?\s*(?:votes?|ballots?)?\s*(?:\((?P<post>(?:non[- ]?)?binding)\))?"
    r"\s*(?:\*\*|__)?\s*$",
    re.IGNORECASE,
)
# "Binding votes:" over the lines it qualifies ("+1: Alice, Bob" under it is binding).
_SECTION_RE = re.compile(
    r"^\s*(?:#{1,6}\s+)?(?:\*\*|__)?(?P<kind>non[- ]?binding|binding)\s*(?:votes?|ballots?)?"
    r"\s*:?\s*(?:\*\*|__)?\s*$",
    re.IGNORECASE,
)
# "Tally among maintainers:", "Votes from the PMC:": the lines under it count those
# whose votes bind (a sentence may come before it on its line).
_BINDING_VOTERS_HEADING_RE = re.compile(
    r"(?:^|[.!]\s+)(?:#{1,6}\s+)?(?:\*\*|__)?(?:tally|count|votes?|ballots?)\s+(?:among|from|of|by)"
    r"\s+(?:the\s+)?(?:maintainers|pmc(?:\s+members)?|committers|core\s+team|tsc|steering\s+council"
    r"|binding\s+voters)\s*:?\s*(?:\*\*|__)?\s*:?\s*$",
    re.IGNORECASE,
)
# "5 +1 votes, 3 of which are binding"
_OF_WHICH_BINDING_RE = re.compile(
    r"\b(?P<n>\d+)\s+(?:of\s+(?:which|them|those)\s+(?:are|were|is|was)\s+binding)\b",
    re.IGNORECASE,
)
# "3 binding +1 (Alice, Bob, Carol)": who, right after the count.
_NAMES_AFTER_RE = re.compile(r"^\s*\((?P<names>[^()]*[A-Za-zÀ-ÿ][^()]*)\)")
# "none", "no one", "no votes", "nobody", "n/a"; and "and no other votes", "no -1s": the
# end of a list in prose, nobody's name.
_NOBODY_RE = re.compile(r"no\b(?!\.)|none\b|nobody$|n/a$", re.IGNORECASE)
_NON_BINDING_MARK_RE = re.compile(r"\(\s*non[- ]?binding\s*\)", re.IGNORECASE)
# Names are separated by commas, "and", ";" or "&", but not inside a parenthesis.
_NAME_SEPARATOR_RE = re.compile(r"(?:,|;|&|\band\b)(?![^(]*\))")
# A list's own count after its names: "so 6 of 8", "that's 5", "6 of 8", "5 total".
_COUNTS_THEM_RE = re.compile(
    r"(?:(?:so|i\.?e\.?|that'?s|which\s+makes)\s+)?\d+(?:\s+(?:of|out\s+of)\s+\d+|\s+total|\s+in\s+all)?$",
    re.IGNORECASE,
)
# A parenthesis of several words after a name is a remark on the ballot ("Tianqi Chen
# (tqchen)" names a login and stays) ...
_ASIDE_RE = re.compile(r"\((?=[^()]*\s\S[^()]*\s)[^()]*\)\s*$")
# ... and some say the ballot was cast elsewhere, as a RESULT may count it.
_ELSEWHERE_RE = re.compile(
    r"\b(?:sent\s+(?:it\s+)?to\s+me|directly|off[- ]?list|privately|in\s+private"
    r"|by\s+(?:private\s+)?(?:e-?mail|mail|phone)|on\s+(?:slack|irc|jira|zoom|the\s+call)|in\s+person|out\s+of\s+band)\b",
    re.IGNORECASE,
)
# A remark on the ballot after a name: "(binding, via JIRA)", "(PMC)", "(non-binding, ...)".
_REMARK_RE = re.compile(
    r"\(\s*(?:(?P<binding>binding|i?pmc)|non[- ]?binding|not binding|nb)\b[^)]*\)\s*$",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _EntryDraft:
    value: float
    count: int | None = None
    binding_count: int | None = None
    non_binding_count: int | None = None
    names: list[str] = field(default_factory=list)
    binding_names: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)


def _draft_for(drafts: dict[int, _EntryDraft], value: float) -> _EntryDraft:
    """The one entry each side (+1, 0, -1) gets, however many lines mention it."""
    return drafts.setdefault(bucket_of(value), _EntryDraft(value))


def _result_lines(text: str) -> list[str]:
    """The announcement's own lines (never the quoted call and its template), entries split."""
    kept: list[str] = []
    for raw in new_lines(text):
        # Markdown's bold around a value or a heading: "- **+1 (4):** @ann, @bob".
        line = raw.replace("**", "")
        if is_attribution(line):
            break  # what follows is the quoted call, template lines and all
        if (
            kept
            and line.strip()
            and (
                (_COUNT_CUT_RE.search(kept[-1]) and _SIGNED_START_RE.match(line))
                or kept[-1].count("(") > kept[-1].count(")")
            )
        ):
            # "passed with three binding" / "+1 votes and ...", "four binding +1 (Ann,
            # Bob," / "Carol)": a count or a list of names the writer's client wrapped
            # is read as one line.
            kept[-1] = f"{kept[-1]} {line.strip()}"
            continue
        kept.extend(part.rstrip() for part in _INLINE_ENTRY_RE.split(line))
    return kept


# A line that ends inside a count ("... with three binding") and one that goes on with
# its value ("+1 votes and one non-binding +1").
_COUNT_CUT_RE = re.compile(
    rf"\b(?:{_NUMBER})(?:\s+(?:non[- ]?binding|binding))?\s*$", re.IGNORECASE
)
_SIGNED_START_RE = re.compile(r"^\s*(?:(?:non[- ]?)?binding\s+)?[+\-−–]\d(?!\d)", re.IGNORECASE)


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
        wrapped_names = bool(pieces) and pieces[-1].endswith(",") and _names_only(line)
        if (
            _RESULT_VALUE_LINE_RE.match(line)
            or _RESULT_COLUMN_LINE_RE.match(line)
            or _RESULT_HEADING_RE.match(line)
            or _RESULT_FROM_RE.match(line)
            or _QUORUM_RE.match(line)
            or _NAME_STOP_RE.search(line)
            # A name's remark does not make it prose: "- Oskar Lindgren (woodstox
            # missing from LICENSE-binary, tracked in ANT-2231)".
            or (len(_PARENTHESISED.sub(" ", line).split()) > 6 and not wrapped_names)
            or (line.startswith("(") and line.endswith(")"))  # a remark on the names
        ):
            break
        if not one_per_line and pieces and (pieces[-1].endswith(",") or len(line.split()) == 1):
            pieces[-1] = f"{pieces[-1]} {line}"
        else:
            pieces.append(line)
        index += 1
    return ", ".join(p.rstrip(",") for p in pieces), index


def _names_only(line: str) -> bool:
    """A line of names ("Emeka Obi (binding), Hiroshi Sato"): each comma's part a few words
    once its remark in parentheses is set aside."""
    parts = [re.sub(r"\([^)]*\)", " ", part).split() for part in line.split(",")]
    return all(1 <= len(words) <= 4 for words in parts if words) and any(parts)


def _split_names(rest: str) -> tuple[list[str], list[str], list[str]]:
    """The names a RESULT lists, those of them it marks binding, and those it says voted
    outside the thread."""
    names: list[str] = []
    binding: list[str] = []
    elsewhere: list[str] = []
    for part in _NAME_SEPARATOR_RE.split(rest):
        raw = part.strip().rstrip(".")
        # "Mirela Novak (sent to me directly, she's travelling)": a remark, not a login.
        aside = _ASIDE_RE.search(raw)
        cast_elsewhere = aside is not None and bool(_ELSEWHERE_RE.search(aside[0]))
        if aside is not None and not _REMARK_RE.search(raw):  # "(binding, ...)" is read below
            raw = raw[: aside.start()].rstrip()
        # "Carol (binding, see the LICENSE issue)": the remark says binding, and goes.
        # Any other parenthesis stays: "Tianqi Chen (tqchen)" names the login.
        remark = _REMARK_RE.search(raw)
        if remark is not None and not _BINDING_MARK_RE.search(raw):
            raw = raw[: remark.start()] + (" (binding)" if remark["binding"] else "")
        is_binding = bool(_BINDING_MARK_RE.search(raw))
        clean = _NON_BINDING_MARK_RE.sub("", _BINDING_MARK_RE.sub("", raw)).strip(" *-")
        if not clean or _NOBODY_RE.match(clean) or _BINDING_WORD_RE.fullmatch(clean):
            continue  # "1 -1 vote (non-binding)" says whose, not who
        if _COUNTS_THEM_RE.match(clean):
            continue  # "@ann, @bob and me, so 6 of 8": the count, after the names
        names.append(clean)
        if is_binding:
            binding.append(clean)
        if cast_elsewhere:
            elsewhere.append(clean)
    return names, binding, elsewhere


def _apply_rest(draft: _EntryDraft, rest: str, binding_flag: bool | None) -> None:
    rest = rest.strip()
    counted = _COUNT_REST_RE.match(rest)
    if counted:
        count = int(counted["count"])
        draft.count = (draft.count or 0) + count
        if counted["binding"]:
            draft.binding_count = (draft.binding_count or 0) + int(counted["binding"])
        elif binding_flag:
            draft.binding_count = (draft.binding_count or 0) + count
        # "+1 (binding): 3" over "  - Ann" lines: the count, then whom it counts. Only
        # bulleted lines are names there; a short line of prose after a count is not.
        bullets = [part for part in rest[counted.end() :].split(", ") if _BULLET_RE.match(part)]
        rest = ", ".join(bullets)
        if not rest:
            return
    names, binding, elsewhere = _split_names(rest)
    draft.names.extend(names)
    draft.binding_names.extend(names if binding_flag else binding)
    draft.elsewhere.extend(elsewhere)


def _binding_flag(*labels: str | None) -> bool | None:
    for label in labels:
        if label:
            return not label.casefold().startswith("non")
    return None


# What a RESULT's author calls themself in its lists: "Beatrix, Dmitri and myself".
_SELF_NAMES = frozenset({"myself", "me", "i", "mine", "self"})


def naming_author(announced: AnnouncedResult, author: str) -> AnnouncedResult:
    """The RESULT with ``author`` (its sender's name) where it names its sender as
    "myself" or "me"; unchanged when it does not (or the sender has no name)."""
    if not author.strip():
        return announced

    def named(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(author if n.strip().casefold() in _SELF_NAMES else n for n in names)

    entries = tuple(
        replace(e, names=named(e.names), binding_names=named(e.binding_names))
        for e in announced.entries
    )
    return replace(
        announced, entries=entries, binding_names=named(announced.binding_names), sender=author
    )


def parse_result(text: str) -> AnnouncedResult:
    """Read a RESULT mail: counts, binding counts and names per value, as announced."""
    lines = _result_lines(text)
    drafts: dict[int, _EntryDraft] = {}
    binding_names: list[str] = []
    quorum: bool | None = None
    used: list[str] = []
    section: bool | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _SECTION_RE.match(line)
        if heading:
            section = _binding_flag(heading["kind"])
            index += 1
            continue
        if _BINDING_VOTERS_HEADING_RE.search(line):
            section = True
            index += 1
            continue
        value_line = (
            _RESULT_VALUE_LINE_RE.match(line)
            or _RESULT_COLUMN_LINE_RE.match(line)
            or _RESULT_HEADING_RE.match(line)
            or _RESULT_FROM_RE.search(line)
        )
        worded = None if value_line else _WORD_VALUE_LINE_RE.match(line)
        quorum_line = _QUORUM_RE.match(line)
        if worded:
            value = worded_value(worded["word"])
            rest, index = _continuation(lines, index + 1, worded["rest"])
            _apply_rest(_draft_for(drafts, value), rest, section)
            used.append(line.strip())
            continue
        if value_line and not re.match(r"^\s*\[", line):
            value = signed_value(value_line["val"])
            flag = _binding_flag(
                value_line.groupdict().get("pre"), value_line.groupdict().get("post")
            )
            flag = section if flag is None else flag
            rest, index = _continuation(lines, index + 1, value_line.groupdict().get("rest") or "")
            draft = _draft_for(drafts, value)
            _apply_rest(draft, rest, flag)
            used.append(line.strip())
            continue
        if quorum_line:
            quorum, names = _quorum(quorum_line["rest"])
            binding_names.extend(names)
            used.append(line.strip())
        else:
            counted = _free_counts(line, drafts)
            if counted is not None and line.rstrip().endswith(":"):
                # "The vote passes with 5 +1 votes, 3 of which are binding:" over a list.
                rest, index = _continuation(lines, index + 1, "")
                _apply_rest(counted, rest, None)
                continue
        index += 1
    entries = tuple(_entry(d) for _, d in sorted(drafts.items(), reverse=True))
    return AnnouncedResult(
        outcome=_announced_outcome(lines),
        entries=entries,
        binding_names=tuple(dict.fromkeys(binding_names)),
        quorum_reached=quorum,
        lines=tuple(used),
    )


def _count_value(token: str) -> float:
    """The value a count counts: "+1", "-1", "approving" or "approvals" (+1),
    "disapproving" (-1), "abstentions" (0)."""
    folded = token.casefold()
    if folded in ("approving", "affirmative") or folded.startswith("approval"):
        return 1.0
    if folded == "disapproving":
        return -1.0
    if folded.startswith("abstention"):
        return 0.0
    return signed_value(token)


def _free_counts(line: str, drafts: dict[int, _EntryDraft]) -> _EntryDraft | None:
    """Counts written as prose: "passed with 4 binding +1 votes and 2 non-binding +1 votes",
    "3 binding +1 (Alice, Bob, Carol)", "5 +1 votes, 3 of which are binding". The entry
    of the last count read, if any."""
    last: _EntryDraft | None = None
    for match in _FREE_COUNT_RE.finditer(line):
        if _RULE_BEFORE_RE.search(line[: match.start()]):
            continue
        value = _count_value(match["val"])
        draft = _draft_for(drafts, value)
        amount = number_of(match["n"])
        kind = (match["kind"] or "").casefold()
        if match["binding"] and draft.binding_count is None:
            draft.binding_count = number_of(match["binding"])
        if kind == "binding" and draft.binding_count is None:
            draft.binding_count = amount
        elif kind.startswith("non") and draft.non_binding_count is None:
            draft.non_binding_count = amount
        elif not kind and draft.count is None:
            draft.count = amount
        named = _NAMES_AFTER_RE.match(line[match.end() :])
        if named and not re.search(r"\d", named["names"]):
            names, marked, _ = _split_names(named["names"])
            draft.names.extend(names)
            # "(Alice*, Bob*, Carol)": a star marks the binding ones, as in a list.
            draft.binding_names.extend(names if kind == "binding" else marked)
        of_which = _OF_WHICH_BINDING_RE.match(line[match.end() :].lstrip(" ,;"))
        if of_which and draft.binding_count is None:
            draft.binding_count = int(of_which["n"])
        last = draft
    return last


def _quorum(rest: str) -> tuple[bool | None, list[str]]:
    text = rest.strip().rstrip(".")
    if not text:
        return None, []
    if re.search(r"\b(?:not|no|failed)\b", text, re.IGNORECASE):
        return False, []
    if re.fullmatch(r"(?:is\s+|was\s+|has\s+been\s+)?reached|met|ok|yes", text, re.IGNORECASE):
        return True, []
    names, _, _ = _split_names(text)
    return True, names


def _entry(draft: _EntryDraft) -> AnnouncedEntry:
    names = tuple(dict.fromkeys(draft.names))
    binding_names = tuple(dict.fromkeys(draft.binding_names))
    binding = draft.binding_count
    if binding is None and binding_names:
        binding = len(binding_names)
    count = draft.count
    # Counts stated for both kinds add up ("four binding +1 (...), one non-binding +1
    # (Jun)"), whatever the names read beside them.
    if count is None and binding is not None and draft.non_binding_count is not None:
        count = binding + draft.non_binding_count
    if count is None and names:
        count = len(names)
    if count is None and (binding is not None or draft.non_binding_count is not None):
        count = (binding or 0) + (draft.non_binding_count or 0)
    elsewhere = tuple(dict.fromkeys(draft.elsewhere))
    return AnnouncedEntry(draft.value, count, binding, names, binding_names, elsewhere)


def _announced_outcome(lines: Sequence[str]) -> VoteState | None:
    text = " ".join(lines)
    if _FAILED_RE.search(text):
        return VoteState.FAILED
    if _PASSED_RE.search(text):
        return VoteState.PASSED
    if _CANCELLED_RE.search(text):
        return VoteState.CANCELLED
    return None


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
    if _misspelled(a.split(), k.split()):
        return 1  # "Jon Abernathy" for "John Abernathy"
    return 0


def _misspelled(announced: list[str], known: list[str]) -> bool:
    """The same name but for a letter in one word that is not the last: a RESULT's
    typo in a first name, never two people who only share a surname."""
    if len(announced) != len(known) or len(known) < 2 or announced[-1] != known[-1]:
        return False
    differing = [(a, k) for a, k in zip(announced, known, strict=True) if a != k]
    return len(differing) == 1 and _one_edit(*differing[0]) and len(differing[0][0]) > 2


def _one_edit(one: str, other: str) -> bool:
    """Whether one letter added, dropped or changed turns ``one`` into ``other``."""
    if abs(len(one) - len(other)) > 1:
        return False
    if len(one) == len(other):
        return sum(a != b for a, b in zip(one, other, strict=True)) == 1
    shorter, longer = sorted((one, other), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


_PARENTHESISED = re.compile(r"\(([^()]*)\)")


def announced_parts(name: str) -> list[str]:
    """An announced name and the aliases it carries: "Tom Zhou (sequoiar)" is both
    "Tom Zhou" and the login "sequoiar", and so is "sequoiar (Tom Zhou)"."""
    inner = [part.strip() for part in _PARENTHESISED.findall(name)]
    outer = " ".join(_PARENTHESISED.sub(" ", name).split())
    return [p for p in (outer, *inner) if p and not _BINDING_WORD_RE.fullmatch(p)]


_BINDING_WORD_RE = re.compile(r"(?:non[- ]?)?binding", re.IGNORECASE)


def voter_candidates(name: str, ballots: Sequence[Ballot]) -> list[Ballot]:
    """The ballots an announced name fits best ("Robert" may fit two Roberts)."""
    parts = announced_parts(name) or [name]
    scored = [
        (max(_match_score(part, n) for part in parts for n in _candidate_names(b)), b)
        for b in ballots
    ]
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
    sender = name_key(announced.sender) if announced.sender else None
    for entry in announced.entries:
        bucket = bucket_of(entry.value)
        for name in entry.names:
            found.extend(
                _check_announced_name(
                    name,
                    entry.value,
                    tally,
                    matched[bucket],
                    elsewhere=name in entry.elsewhere,
                    sender=name_key(name) == sender,
                )
            )
        if entry.count is not None and (not entry.names or _names_some(entry)):
            found.extend(_check_count(entry, tally))
    found.extend(_unannounced(tally, announced, matched))
    found.extend(_check_binding(tally, announced))
    return found


def _check_announced_name(
    name: str,
    value: float,
    tally: Tally,
    matched: set[str],
    *,
    elsewhere: bool = False,
    sender: bool = False,
) -> list[Discrepancy]:
    candidates = voter_candidates(name, tally.ballots)
    label = format_value(value)
    if not candidates and elsewhere:
        detail = f"announced as {label}, cast outside the thread as the announcement says"
        return [Discrepancy("cast-elsewhere", (name,), detail)]
    if not candidates and sender:
        detail = f"announced as {label} by the announcement's own sender; no ballot in the thread"
        return [Discrepancy("senders-own-ballot", (name,), detail)]
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
    if ballot.bucket != bucket_of(value):
        detail = f"announced as {label}; voted {ballot.label}"
        return [Discrepancy("value-differs", (ballot.voter,), detail)]
    return []


def _check_count(entry: AnnouncedEntry, tally: Tally) -> list[Discrepancy]:
    bucket = bucket_of(entry.value)
    ours = {1: tally.plus, 0: tally.zero, -1: tally.minus}[bucket]
    # The release manager may have counted ambiguous ballots; that is a judgement, not an error.
    if entry.count is not None and ours <= entry.count <= ours + tally.ambiguous:
        return []
    detail = f"announced {entry.count} x {format_value(entry.value)}; the thread has {ours}"
    return [Discrepancy("count-differs", (), detail)]


def _names_some(entry: AnnouncedEntry) -> bool:
    """Whether the RESULT counts more ballots of this value than it names: "It passes with
    6 +1 votes, 4 of them binding" over a list of the four binding ones. The ballots it
    does not name are in its count, not missing from it."""
    return entry.count is not None and 0 < len(entry.names) < entry.count


def _unannounced(
    tally: Tally, announced: AnnouncedResult, matched: dict[int, set[str]]
) -> list[Discrepancy]:
    if not announced.entries:
        return []
    found: list[Discrepancy] = []
    for ballot in tally.ballots:
        if not ballot.counted or ballot.value is None:
            continue
        entry = announced.entry(ballot.value)
        if entry is not None and (not entry.names or _names_some(entry)):
            continue  # a count (or a count naming only some) was checked as a count
        if any(ballot.voter in voters for voters in matched.values()):
            continue  # named under another value: reported as value-differs
        # A RESULT may leave out support that does not bind ("+1 (non-binding)", "Not on
        # the TSC, but +1"), unless it lists such support by name and misses one; an
        # objection left out is dissent hidden, however little it weighs, and stays a
        # discrepancy.
        if (
            (not binds(ballot, unknown=True) or _left_out_of_binding_list(ballot, entry))
            and bucket_of(ballot.value) >= 0
            and not _lists_non_binding(entry)
        ):
            detail = f"voted {ballot.label} in the thread, not binding; not in the announcement"
            found.append(Discrepancy("non-binding-not-announced", (ballot.voter,), detail))
            continue
        detail = f"voted {ballot.label} in the thread; not in the announcement"
        found.append(Discrepancy("not-in-announcement", (ballot.voter,), detail))
    return found


def _left_out_of_binding_list(ballot: Ballot, entry: AnnouncedEntry | None) -> bool:
    """Whether a RESULT that marks every name it lists binding ("Tally among maintainers:
    - Approve (+1): ...") leaves this voter out, who did not claim to bind: with no roster,
    the RESULT's own claim says the ballot does not bind."""
    return (
        entry is not None
        and bool(entry.names)
        and len(entry.binding_names) == len(entry.names)
        and not ballot.cast.reading.self_declared_binding
    )


def _lists_non_binding(entry: AnnouncedEntry | None) -> bool:
    """Whether a RESULT's entry names voters it does not mark binding beside ones it does
    ("+1 (binding): Ann, Bob" and "+1 (non-binding): Carl"): it lists both kinds."""
    return entry is not None and 0 < len(entry.binding_names) < len(entry.names)


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
# A result announced inside the vote thread
# --------------------------------------------------------------------------

# "This vote passes.", "The vote has passed with ...", "Vote passed with +1's from: ...",
# "the vote is closed", "I'm cancelling this vote": a statement that the vote is over.
_ANNOUNCES_RE = re.compile(
    # A dot inside a version ("the vote for v0.17.0.rc0 is closed") does not end it.
    r"\b(?:vote|motion)\b(?:[^.?!;\n]|\.(?=\w)){0,40}?\b(?:has\s+|have\s+)?(?:now\s+)?"
    r"(?:passe[sd]|carried|carries|succeeded|failed|fails|did\s+not\s+pass|closed\s+on\b"
    r"|is\s+(?:now\s+)?(?:closed|over|cancell?ed|approved|withdrawn)"
    r"|has\s+been\s+(?:closed|cancell?ed|approved|withdrawn))\b"
    # "Voting closed on Friday at 18:00 PST."
    r"|^\s*voting\s+(?:has\s+|is\s+)?(?:now\s+)?closed\b"
    # "The voting period is over.", "The voting window has ended." (Not "has passed":
    # said of time, it would read as the outcome.)
    r"|\bvoting\s+(?:period|window)\s+(?:is\s+(?:now\s+)?over|has\s+(?:now\s+)?(?:ended|closed"
    r"|elapsed)|(?:ended|closed|elapsed))\b"
    # Not "my vote": "I'm withdrawing my vote" takes back a ballot.
    r"|\b(?:closing|cancell?ing|withdrawing)\s+(?:the|this)\s+vote\b"
    # "The vote has been open for 7 days, so I'm closing it."
    r"|\bvote\b[^.?!;\n]{0,60}\b(?:i'?m|i\s+am)\s+(?:now\s+)?closing\s+it\b"
    # A closing comment's heading: "Vote summary: approved by @ann and @bob ...".
    r"|^\W*(?:vote|voting)\s+(?:summary|result|results|outcome)\s*:"
    r"|\blazy\s+consensus\s+(?:holds|stands|passe[sd]|(?:is|has\s+been)\s+reached)\b",
    re.IGNORECASE,
)
# Before the statement, any of these make it a condition, a plan or a question.
_NOT_YET_RE = re.compile(
    r"\b(?:if|once|when|unless|would|will|should|could|might|may|until|before|whether"
    r"|think|guess|assume|hope|expect|not|n't)\b|n't\b",
    re.IGNORECASE,
)


# After the statement, a condition: "The vote passes if we get 3 binding +1s."
_CONDITION_AFTER_RE = re.compile(
    r"^\s*,?\s*(?:\w+\s+){0,3}?(?:if|once|when|unless|provided|as\s+soon\s+as)\b", re.IGNORECASE
)
# Another vote, or this one at another time: "Last time the vote failed because ...".
_ANOTHER_TIME_RE = re.compile(
    r"\b(?:last\s+(?:time|week|month|year|release)|previous(?:ly)?|in\s+the\s+past|ago"
    r"|back\s+in)\b",
    re.IGNORECASE,
)


# The outcome in the sentences right after "the vote is closed": "It passes with ...".
# "**Result: the proposal passes.**" (Discourse's bold, the word "Result" before it).
_OUTCOME_AFTER_RE = re.compile(
    r"^(?P<lead>[*_\s]*(?:result\s*:\s*)?(?:\w+,?\s+){0,3}?)(?:it|(?:the|this)\s+(?:vote|release"
    r"|proposal|motion|resolution|policy))\s+(?:has\s+)?(?:passe[sd]|carried|succeeded|failed|fails"
    r"|did\s+not\s+pass|is\s+(?:adopted|accepted|approved|rejected))\b"
    # "That meets the two-thirds threshold, so RFC 0031 is accepted."
    r"|^(?P<tail>(?:[^,;.]*[,;]\s*)?(?:so|and|therefore|thus)\s+)(?:the\s+)?(?:rfc|proposal|motion"
    r"|resolution)\b[^,;.]{0,20}?\s+is\s+(?:accepted|approved|adopted|rejected|not\s+accepted)\b",
    re.IGNORECASE,
)
# "**Result: passed.**": the outcome alone after "Result:".
_BARE_OUTCOME_RE = re.compile(
    r"^[*_\s]*result\s*:\s*[*_]*(?P<outcome>passed|carried|approved|failed|rejected)\b",
    re.IGNORECASE,
)
OUTCOME_LOOKAHEAD = 2


def announces_result(text: str) -> tuple[bool, VoteState | None]:
    """Whether a post states, as its author's own statement, that the vote is over
    ("This vote passes.", "I'm closing this vote"), and the outcome it states (None
    when it states none). A question, a condition or a plan ("the vote will pass if
    ...", "I think it passes") is no announcement."""
    sentences = paragraph_sentences(prose_lines(text))
    for index, sentence in enumerate(sentences):
        match = _ANNOUNCES_RE.search(sentence)
        if match is None or sentence.rstrip().endswith("?"):
            continue
        statement = re.sub(r"did\s+not\s+pass", "failed", match[0], flags=re.IGNORECASE)
        if _NOT_YET_RE.search(own_clause(sentence[: match.start()])) or _NOT_YET_RE.search(
            statement
        ):
            continue
        if _CONDITION_AFTER_RE.match(sentence[match.end() :]) or _ANOTHER_TIME_RE.search(sentence):
            continue
        following = _told_after(sentences[index + 1 :])[:OUTCOME_LOOKAHEAD]
        return True, _announced_outcome([sentence]) or _outcome_after(following)
    return False, None


def _told_after(sentences: Sequence[str]) -> list[str]:
    """The sentences after an announcement without the tally it may list first ("Tally
    among maintainers:" over "- Approve (+1): ..."): the outcome comes after the count."""
    return [s for s in sentences if not (s.rstrip().endswith(":") or _BULLET_RE.match(s))]


def _outcome_after(sentences: Sequence[str]) -> VoteState | None:
    """ "The vote is closed. It passes with 4 binding +1." states its outcome next."""
    for sentence in sentences:
        bare = _BARE_OUTCOME_RE.match(sentence)
        if bare is not None:
            rejected = bare["outcome"].casefold() in ("failed", "rejected")
            return VoteState.FAILED if rejected else VoteState.PASSED
        match = _OUTCOME_AFTER_RE.search(sentence)
        lead = match and (match["lead"] or match["tail"])
        if match and not (sentence.rstrip().endswith("?") or _NOT_YET_RE.search(lead or "")):
            failed = re.search(r"fail|did\s+not\s+pass|reject|not\s+accepted", match[0], re.I)
            return VoteState.FAILED if failed else VoteState.PASSED
    return None
