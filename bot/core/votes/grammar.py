"""Reading one post's text as a ballot: ``parse_ballot`` and the grammar behind it.

The grammar is tuned on real ASF vote threads. Its guiding rule: a ballot is
counted only when it is explicit; anything that *looks* like a vote without an
explicit value ("works for me", "+1 if ...", "+1 ... -1") is reported as
ambiguous with the sentence it came from, never guessed and never dropped.

How :func:`parse_ballot` reads a post (the sections below follow these steps):

1. :func:`bot.core.votes.prose.prose_lines` keeps the lines a person wrote as prose;
2. template lines (``[ ] +1``, a ``+1 = approve`` legend) and result-like lines
   (``+1: Ann, Bob``) are set aside;
3. every value in the rest is a ``_Hit``, sorted by its sentence into a ballot,
   a conditional ballot, an unsure mention or noise (``_classify``);
4. the hits, the binding claim and the prose around them become one
   :class:`BallotReading`; without any hit, vague wording ("works for me")
   still makes a reading, never a counted one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.core.votes.prose import own_clause, prose_lines
from bot.core.votes.values import format_value, signed_value, value_of, worded_value


class ReadingKind(StrEnum):
    """What a post's text amounts to as a ballot."""

    NONE = "none"  # nothing vote-like
    VOTE = "vote"  # one explicit value
    CONFLICT = "conflict"  # several different explicit values
    CONDITIONAL = "conditional"  # an explicit value hedged by a condition
    VAGUE = "vague"  # vote-like wording without an explicit value
    WITHDRAWN = "withdrawn"  # the voter takes their ballot back ("I withdraw my +1")


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


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_VALUE_RE = re.compile(
    # Not glued to a word, number, path or operator: "3.0.0-1", "GMT+1", "a+1".
    r"(?<![\w.+\-−–/=#%$^&~\\@:'\"’])"
    r"(?P<sign>\+\+|\+|-|−|–)?"
    r"(?P<num>1(?:\.0+)?|0(?:\.\d+)?|\.\d+)"
    # Not a longer number, a plural ("+1's") or a time/date ("+1:00", "-1.5").
    r"(?![\w%]|['’]s\b|[.,:/\-–]\d)"
)
# A box may sit in a Markdown task list: "- [x] +1, release it", "- [ ] -1".
_EMPTY_BOX_RE = re.compile(r"^\s*(?:[-*]\s+)?(?:\[\s*\]|\(\s*\))\s*")
_CHECKED_BOX_RE = re.compile(r"^\s*(?:[-*]\s+)?\[\s*[xX✓✔*]\s*\]\s*")
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
# How voters annotate a ballot ("(binding)", "non-binding", "[nb]"), and claim it as theirs.
_ANNOTATION = r"[(\[]?\s*(?:non[- ]?binding|not binding|nb|binding)\s*[)\]]?"
_FROM_MYSELF = r"from\s+(?:me|my side|us|our side)"
_ANNOTATION_RE = re.compile(_ANNOTATION, re.IGNORECASE)
_MARKED_BALLOT_RE = re.compile(
    r"^\s*[(\[]\s*(?:non[- ]?binding|not binding|nb|binding)\s*[)\]]", re.IGNORECASE
)
# "(nicht bindend)", "(no vinculante)": the same in the voter's own language.
_NON_BINDING_RE = re.compile(
    r"\bnon[- ]?binding\b|\b(?:not|n't) binding\b|\(nb\)|\bnicht[- ]?(?:bindend|verbindlich)\b"
    r"|\bunverbindlich\b|\b(?:no|não|nao|non)[- ]?(?:vinculante|vincolante)\b"
    r"|\bnon[- ]contraignant\b"
    # "+1 from a user!", "(just a user)": the voter says they are outside the body.
    r"|\bfrom\s+a\s+(?:mere\s+|humble\s+|happy\s+|plain\s+)?user\b|\bjust\s+a\s+user\b"
    # Outside the body whose votes bind: "Not on the TSC, but +1", "(not the TSC)",
    # "not a PMC member", "I'm not a committer".
    r"|\bnot\s+(?:on|in|part\s+of|a\s+member\s+of)?\s*(?:the|a|an)\s+(?:pmc|ipmc|tsc|ppmc|steering"
    r"\s+(?:committee|council)|technical\s+steering\s+committee|committers?|maintainers?|core\s+team"
    r"|(?:pmc|tsc|ipmc)\s+member)\b",
    re.IGNORECASE,
)
# "(PMC)", "(IPMC member)": the committee whose votes bind, named instead of the word.
_COMMITTEE_LABEL = r"\(\s*i?pmc(?:\s+member)?\s*\)"
_BINDING_RE = re.compile(
    r"\bbinding\b|\bbindend\b|\bverbindlich\b|\bvinculante\b|\bvincolante\b|\bcontraignant\b|"
    + _COMMITTEE_LABEL,
    re.IGNORECASE,
)
_BINDING_LABEL_RE = re.compile(
    r"\(\s*binding\s*\)|^\s*binding\s*$|" + _COMMITTEE_LABEL, re.IGNORECASE | re.MULTILINE
)
_FROM_ME_RE = re.compile(
    r"^\s*(?:[(\[]?\s*(?:non[- ]?)?binding\s*[)\]]?\s*)?from\s+(?:me|my|us|our)\b", re.I
)
_FROM_OTHER_RE = re.compile(r"^\s*from\s+\w", re.IGNORECASE)
# "+1 from someone who gave up on a pull request because of the CLA", "+1 from a
# downstream packager": the voter says what they are ("+1 from Olivier" reports another's
# ballot; a name takes no article); "+1 from the packaging side" speaks for a part of the
# project the writer is in.
_FROM_SELF_DESCRIBED_RE = re.compile(
    r"^\s*from\s+(?:(?:someone|somebody)\s+who\b|(?:a|an)\s+[\w'-]+"
    r"|the\s+[\w'-]+(?:\s+[\w'-]+)?\s+(?:side|perspective|point\s+of\s+view)\b)",
    re.IGNORECASE,
)
_VOTES_NOUN_RE = re.compile(r"^\s*(?:votes?|ballots?)\b", re.IGNORECASE)
_TAIL_RE = re.compile(
    # What may follow a ballot at the end of a sentence: annotations, "from me",
    # a short object ("on this", "for the release"), emoticons, a parenthesis.
    r"^(?:\s*(?:" + _ANNOTATION + "|" + _FROM_MYSELF + r"|for\s+me|too|as well|again|also"
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
# "With either of those I'll be +1", "Once the NOTICE is fixed I will be +1": a promise
# after its condition.
_CONDITION_LEAD_RE = re.compile(r"^\W*(?:with|once|when|as\s+soon\s+as)\b", re.IGNORECASE)
# A ballot cast before, kept: "I'm keeping the -1", "I stand by my -1".
_KEEPS_RE = re.compile(
    r"\b(?:keep(?:ing)?|stick(?:ing)?\s+(?:with|to)|stand(?:ing)?\s+by|maintain(?:ing)?)"
    r"\s+(?:the|my|our)\s*$",
    re.IGNORECASE,
)
_CONDITION_AFTER_RE = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:if|unless|once|provided|assuming|as soon as)\b", re.I
)
_RESULT_STATEMENT_RE = re.compile(
    r"\bvote\b[^.]*\b(?:passed|failed|succeeded|carried|closed)\b|\b(?:passed|failed) with\b",
    re.IGNORECASE,
)
# How to vote, told before the values: "Please vote", "cast your vote", "How to vote:
# reply to this topic with +1, 0 or -1", "vote by commenting +1".
_PLEASE_RE = re.compile(
    r"\bplease\b|\bcast your\b|\bhow\s+to\s+vote\b"
    r"|\b(?:reply|respond|comment|answer)(?:ing)?\s+(?:(?:to|in|on)\s+(?:this|the)\s+\w+\s+)?with\b"
    r"|\bvote\s+by\s+(?:replying|commenting|responding)\b",
    re.IGNORECASE,
)
# The vote's rule, not a ballot: "requires 2/3 vote +1 of the PMC members", "silence is +1".
# Only the clause the value is in counts: "Given that we need this, +1" is a ballot.
_RULE_RE = re.compile(
    r"\b(?:requires?|required|requirement|needs?|needed|must|at\s+least|minimum|majority"
    r"|quorum|silence|lazy\s+consensus|means?|counts?\s+as|considered|2/3|two[- ]thirds)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK_RE = re.compile(r"[,;:(—–]|\s-\s")
# The value denied in its own clause: "Not a +1 from me yet", "I can't give a +1",
# "I don't think I can vote +1". ("No issues found +1" denies something else.)
_NEGATED_RE = re.compile(
    r"(?:\b(?:not|no|never)\s+(?:(?:yet|quite|really)\s+)?(?:an?\s+|my\s+)?"
    r"|(?:n't|\bnot|\bcannot|\bnever)\s+(?:[\w']+\s+){0,4}?(?:vote|give|cast|be|say)\s+"
    # "I don't want to give a full +1", "not a clear +1".
    r"(?:an?\s+|my\s+)?(?:full|clear|proper|real|firm|binding|wholehearted)?\s*)$",
    re.IGNORECASE,
)
# An interim count in a reply: "Votes so far: +1 Alice, +1 Bob".
_TALLY_ENTRY_RE = re.compile(r"(?<![\w+\-])[+\-−–]\d(?:\.\d+)?\s+[A-ZÀ-Þ][\w'’.-]*")
# "+1000 -- been waiting for this": a +1, said loudly (at the start of a line only: a diff
# stat's "+1000" is no ballot, and prose_lines has kept no diff).
_ENTHUSIASM_RE = re.compile(r"^(\s*)\+10{2,5}(?![\d.,])(?!\s*(?:lines?|loc|insertions?)\b)")
# GitHub's thumbs-up opening a comment (":+1:", as typed; "👍", as shown) is its +1.
_THUMBS_UP_RE = re.compile(r"^(\s*)(?::\+1:|👍)(?=\s|$|[,.!])")
# "I abstain.", "I'm going to abstain on this one.", "Abstain.": a 0 in words, in any vote.
_ABSTAINS_RE = re.compile(
    r"^(?:i\s+(?:will\s+|'ll\s+|must\s+|have\s+to\s+)?|i(?:'m|\s+am)\s+(?:going\s+to\s+)?)"
    r"abstain\b(?![^.]*\b(?:if|unless|until)\b)"
    # "Abstain.", "Abstaining from me.": the word alone is the whole sentence.
    r"|^abstain(?:ing)?(?:\s+from\s+me)?[.!]*$",
    re.IGNORECASE,
)
# "+1 to what Agnes said", "+1 to Bob's suggestion": agreeing with a comment in the
# thread, not voting on the release.
_SECONDS_A_COMMENT_RE = re.compile(
    r"^\s*\+1\s+(?:to\s+|on\s+)(?:what\s+[\w@.-]+\s+(?:said|wrote|suggested|says)|[\w@.-]+['’]s?\s+"
    r"(?:point|comment|suggestion|idea|remark|note|nit|concern)|(?:that|this|the)\s+(?:point|comment"
    r"|suggestion|idea|remark|nit))\b",
    re.IGNORECASE,
)
_WITHDRAW_RE = re.compile(r"\b(?:withdraw|retract|revoke)\w*\b", re.IGNORECASE)
_DENIED_RE = re.compile(r"\b(?:not|never)\b|n't\b", re.IGNORECASE)
_VALUE_AT_START_RE = re.compile(r"^\s*[+\-−–]\d")
# Words a wrapped sentence is cut after, which no sentence ends with.
_CUT_WORDS = _COUNT_WORDS | _wordset("least and or a an the at than to")
# "0 - happy either way", "0 — I abstain": a reason after a dash, as ballots are written.
_DASH_REASON_RE = re.compile(r"^\s*[-–—]\s+\S")
# "0, I don't know their work well enough": a reason in words after a comma ("0, 1, 2"
# and "0,5" are numbers).
_COMMA_REASON_RE = re.compile(r"^\s*,\s+[^\W\d_]")
# Another person's ballot, told or passed on: "she told me she is -1", "he votes +1",
# "pass on his vote: +1", "on behalf of Greta: +1".
_SOMEONE_ELSES_RE = re.compile(
    r"\b(?:she|he|they)\s+(?:is|are|was|were|votes?|voted|would\s+be)\s*$", re.IGNORECASE
)
_RELAYED_RE = re.compile(
    r"\b(?:pass(?:ing)?\s+on|relay(?:ing)?)\s+(?:his|her|their|\w+'s)\s+(?:vote|ballot)\b"
    r"|\bon\s+behalf\s+of\b",
    re.IGNORECASE,
)
# "I withdraw my +1.", "retracting my vote": the voter's own ballot taken back, no other.
_TAKES_BACK_RE = re.compile(
    r"\b(?:withdraw(?:ing|n)?|retract(?:ing|ed)?|revok(?:e|ing|ed)|tak(?:e|ing)\s+back)\s+my\s+"
    r"(?:(?:binding\s+|non[- ]?binding\s+)?(?P<value>[+\-−–]?[01](?:\.\d+)?)|vote|ballot)"
    r"(?!\w|\.\d)",
    re.IGNORECASE,
)
_CHANGE_RE = re.compile(r"\b(?:chang|switch|revis|turn|updat|mov)\w*\b", re.IGNORECASE)
_MY_VOTE_RE = re.compile(r"\bmy\s+(?:vote|ballot)\b", re.IGNORECASE)
_PROMISE_RE = re.compile(r"\b(?:will|shall|going\s+to|'ll)\b", re.IGNORECASE)
# What makes a promised change wait: a time or event after the new value ("... to +1
# after I test", "... for RC2", "... tomorrow").
_LATER_RE = re.compile(
    r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:after|when|once|if|unless|as\s+soon\s+as|in|for|on|with"
    r"|by|before|next|tomorrow|tonight|later|soon|pending|depending)\b",
    re.IGNORECASE,
)
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
            r"|\bship it\b|:\+1:|👍|\bcount me in\b|\bI approve\b"
            # "Yes." or "Approve." alone, as a reply to the call.
            r"|^(?:yes|aye|yea|approved?)[.!]*$",
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
    r"^(?:\s+|" + _ANNOTATION + "|" + _FROM_MYSELF + r"\b|[,.!:;)\]*_~…-]+)*",
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


# --------------------------------------------------------------------------
# The reading: from a post's hits to one BallotReading
# --------------------------------------------------------------------------


def parse_ballot(text: str) -> BallotReading:
    """Read a post's new text as a ballot.

    Template lines, logs, code, diffs, quotes and value mentions ("a +1",
    "+1's", "one more +1") never count; several different values, a
    condition, or vote-like wording without a value make the reading ambiguous.
    """
    lines = [
        _THUMBS_UP_RE.sub(r"\g<1>+1", _ENTHUSIASM_RE.sub(r"\g<1>+1", line))
        for line in prose_lines(text)
    ]
    template = _template_lines(lines) | _listing_lines(lines)
    hits: list[_Hit] = []
    for index, line in enumerate(lines):
        if line and index not in template and not _is_result_like(line):
            hits.extend(_hits_in_line(line, _cut_before(lines, index)))
    prose = " ".join(line for i, line in enumerate(lines) if line and i not in template)
    ballots = [h for h in hits if h.sort is _Sort.BALLOT]
    taken_back = _TAKES_BACK_RE.search(prose)
    if taken_back is not None and not ballots and _only_the_value_taken_back(hits, taken_back):
        sentence = next(
            (t for t in _SENTENCE_SPLIT_RE.split(prose) if _TAKES_BACK_RE.search(t)), prose
        )
        return BallotReading(ReadingKind.WITHDRAWN, sentence=sentence.strip())
    if ballots and all(_SECONDS_A_COMMENT_RE.match(h.sentence) for h in ballots):
        return _ambiguous(
            ReadingKind.VAGUE,
            [h.sentence for h in ballots],
            prose,
            "a +1 to a comment in the thread, not to the vote",
        )
    if ballots:
        reading = _explicit_reading(ballots, prose)
        justification = _justification(lines, template, ballots)
        return replace(reading, justification=justification) if reading.is_vote else reading
    conditional = [h for h in hits if h.sort is _Sort.CONDITIONAL]
    if conditional:
        values = {h.value for h in conditional}
        return _ambiguous(
            ReadingKind.CONDITIONAL,
            [h.sentence for h in conditional],
            prose,
            "the value is made conditional",
            value=values.pop() if len(values) == 1 else None,
        )
    unsure = [h.sentence for h in hits if h.sort is _Sort.UNSURE]
    if unsure:
        return _ambiguous(
            ReadingKind.VAGUE, unsure, prose, "a value is mentioned but not clearly cast"
        )
    abstains = next((t for t in paragraph_sentences(lines) if _ABSTAINS_RE.match(t)), None)
    if abstains is not None:
        return BallotReading(ReadingKind.VOTE, value=0.0, sentence=abstains)
    return _vague_reading(lines, prose) or BallotReading(ReadingKind.NONE)


# A committee's ballot in words, where the call asks for them ("Please reply with yes, no
# or abstain"): "I vote yes.", "yes", "No." before its reasons, "Abstain", "Yes from me
# as well.".
_WORDED_BALLOT_RE = re.compile(
    # ("I abstain." is read before this, by parse_ballot, in any vote.) "Then yes from
    # me.", "I'm voting yes myself.", "In favour."
    r"^(?:(?:then|so|ok(?:ay)?)[,!]?\s+)?(?:i\s+(?:vote|say)\s+|i'?m\s+voting\s+|i\s+am\s+voting\s+)?"
    r"(?P<word>yes|aye|yea|no|nay|abstain|in\s+favou?r|against)\b"
    r"(?:\s+(?:from\s+me|myself|too|as\s+well))*[.!]*$"
    # "Then I vote yes: a policy with a long embargo is better than none.": the vote said
    # in so many words, then its reason.
    r"|^(?:(?:then|so|ok(?:ay)?)[,!]?\s+)?(?:i\s+vote|i'?m\s+voting|i\s+am\s+voting)\s+"
    r"(?P<voted>yes|aye|yea|no|nay|abstain|in\s+favou?r|against)"
    r"\s*(?:[:;—–]|,\s*(?:because|since|as)\b)"
    # "No, for the same reasons as Yuki.": another voter's ballot, cast again.
    r"|^(?P<same>yes|aye|yea|no|nay)\s*,?\s+for\s+the\s+same\s+reasons?\b"
    # "I know I'm not on the TC, so this is only for the record, but Nay from me."
    r"|[,;]\s*(?:(?:but|so|and)\s+)?(?P<from_me>yes|aye|yea|no|nay|abstain)\s+from\s+me[.!]*$"
    # "Not on the TSC, so non-binding, but: NO.", "For the record, my vote is yes.", "I
    # should also cast my own vote: yes.", "I'm changing my vote to YES."
    r"|(?:[,;]\s*but\s*:\s*|\bmy\s+(?:own\s+)?vote(?:(?:\s+is)?\s*:?\s+|\s*:\s*)"
    r"|\bchang(?:e|ing)\s+my\s+vote\s+(?:from\s+\w+\s+)?to\s+)(?P<said>yes|aye|yea|no|nay|abstain)[.!]*$"
    # "a big yes from the packaging side": the answer, said with weight.
    r"|\ba\s+(?:big|strong|clear|firm|definite|resounding|wholehearted)\s+(?P<weighty>yes|no)\b",
    re.IGNORECASE,
)
# A reply to the call itself may open with its answer: "Yes, and thanks for writing this
# up." (In a reply to someone else "No, only the compiler" answers them, not the call.)
_OPENING_ANSWER_RE = re.compile(r"^(?P<word>yes|aye|yea|no|nay)\s*[,;:—–]", re.IGNORECASE)


def parse_worded_ballot(text: str, *, answers_call: bool = False) -> BallotReading:
    """Read a post's new text as a ballot in words: a sentence that is nothing but the
    word ("Yes.", "I vote no.", "Abstain"), the first one or on its own anywhere ("Sorry
    for the delay, I was travelling. Yes."). Two different words are a conflict.
    ``answers_call``: the post replies to the call (or to a post that asks nothing), so a
    "Yes, ..." opening it or its closing paragraph answers the call."""
    lines = prose_lines(text)
    sentences = paragraph_sentences(lines)
    hits = [(m, sentence) for sentence in sentences if (m := _WORDED_BALLOT_RE.search(sentence))]
    if answers_call and not hits and sentences:
        # The post's first sentence, or the first of its closing paragraph: "Aarav, I
        # think the cap covers most of this: ... \n\n Yes, with the understanding that
        # we review it at the mid-point."
        closing = paragraph_sentences(_last_paragraph(lines))
        for sentence in dict.fromkeys([sentences[0], *closing[:1]]):
            opening = _OPENING_ANSWER_RE.match(sentence)
            if opening is not None:
                hits = [(opening, sentence)]
                break
    values = {
        worded_value(
            m["word"] or m["from_me"] or m["said"] or m["voted"] or m["same"] or m["weighty"]
        )
        for m, _ in hits
    }
    if not hits:
        return BallotReading(ReadingKind.NONE)
    if len(values) > 1:
        reason = "conflicting answers: " + ", ".join(sentence for _, sentence in hits)
        return _ambiguous(ReadingKind.CONFLICT, [s for _, s in hits], " ".join(sentences), reason)
    # "I'm not on the TSC, but ...: a big yes from the packaging side." says whose it is.
    return BallotReading(
        ReadingKind.VOTE,
        value=values.pop(),
        sentence=hits[0][1],
        self_declared_binding=_self_declared([hits[0][1]], " ".join(sentences)),
    )


def _last_paragraph(lines: Sequence[str]) -> list[str]:
    """The lines of the last paragraph that says something: a name signing off does not."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    said = (p for p in reversed(paragraphs) if word_count(" ".join(p)) > SIGNATURE_WORDS)
    return next(said, [])


# A closing line of this many words or fewer is a signature ("Thabo", "Best, Ana").
SIGNATURE_WORDS = 3


def _explicit_reading(ballots: Sequence[_Hit], prose: str) -> BallotReading:
    # +0 and -0 are different opinions, so compare the formatted value, not the float.
    values = {format_value(h.value): h.value for h in ballots}
    sentences = [h.sentence for h in ballots]
    if len(values) > 1:
        source = _source_ballot(ballots)
        if source is not None:
            return BallotReading(
                ReadingKind.VOTE,
                value=source.value,
                sentence=source.sentence,
                self_declared_binding=_self_declared(sentences, prose),
            )
        reason = "conflicting values: " + ", ".join(values)
        return _ambiguous(ReadingKind.CONFLICT, sentences, prose, reason)
    return BallotReading(
        ReadingKind.VOTE,
        value=ballots[0].value,
        sentence=ballots[0].sentence,
        self_declared_binding=_self_declared(sentences, prose),
    )


# What a release vote's ballot may be split over: the source release, which is what an
# ASF release is, and the convenience binaries built from it.
_SOURCE_RE = re.compile(r"\bsources?\b|\bsrc\b", re.IGNORECASE)
_CONVENIENCE_RE = re.compile(
    r"\bbinar(?:y|ies)\b|\bconvenience\b|\bdocker\b|\bcontainer\s+images?\b|\bjars?\b"
    r"|\bwheels?\b|\b(?:maven|nuget|npm|pypi)\s+(?:artifacts?|packages?)\b",
    re.IGNORECASE,
)


def _source_ballot(ballots: Sequence[_Hit]) -> _Hit | None:
    """The ballot on the source release, where a voter splits theirs by artifact ("+1 for
    the source release. Binaries: +0, I only looked at the tarball."): the source
    package is the release (the binaries are a convenience built from it), so its value
    is the vote. None unless every other value is said of the binaries."""
    source = [
        h
        for h in ballots
        if _SOURCE_RE.search(h.sentence) and not _CONVENIENCE_RE.search(h.sentence)
    ]
    rest = [h for h in ballots if h not in source]
    if not source or not rest or len({format_value(h.value) for h in source}) != 1:
        return None
    return source[0] if all(_CONVENIENCE_RE.search(h.sentence) for h in rest) else None


def _ambiguous(
    kind: ReadingKind,
    sentences: Sequence[str],
    prose: str,
    reason: str,
    *,
    value: float | None = None,
) -> BallotReading:
    """A reading a person has to judge: the sentences to show them, and why."""
    return BallotReading(
        kind,
        value=value,
        sentence=" / ".join(dict.fromkeys(sentences)),
        self_declared_binding=_self_declared(sentences, prose),
        reason=reason,
    )


# --------------------------------------------------------------------------
# Lines that hold no ballot: templates, legends, result lines
# --------------------------------------------------------------------------


def _template_lines(lines: Sequence[str]) -> set[int]:
    """Indexes of ballot-template lines (``[ ] +1``, ``+1 = approve``, a +1/0/-1 legend)."""
    template: set[int] = set()
    block: list[tuple[int, str]] = []
    for index, line in enumerate([*lines, ""]):  # the sentinel closes the last block
        start = _value_start(line)
        if _WORD_MEANS_VALUE_RE.match(line):
            template.add(index)  # "- **Approve** = +1"
        elif start and _EMPTY_BOX_RE.match(line):
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


# A legend written the other way round, the word before the value it counts as: "-
# **Approve** = +1", "Request changes = -1 (please say why)", "a comment saying abstain = 0".
_WORD_MEANS_VALUE_RE = re.compile(
    r"^\s*(?:[-*•]\s+)?[\w*_\"'“”\s]{1,60}?[*_\"”]*\s*=\s*(?:[+\-−–]\d|0)(?![\d.])\s*(?:\(.*\))?\s*$"
)


# A name in a column of names: one to four words, each starting with a capital (or a
# letter without case, as in 大啊), maybe a bullet or a "(binding)" after it.
_NAME_LINE_RE = re.compile(
    r"^\s*(?:[-*•]\s+)?(?P<name>[^\W\d_][\w'’.\-]*(?:\s+[^\W\d_][\w'’.\-]*){0,3})"
    r"\s*(?:\((?:non[- ]?)?binding\))?\s*$",
    re.IGNORECASE,
)
_LISTING_MIN_NAMES = 3
_VALUE_ALONE_RE = re.compile(
    r"^\s*(?:[+\-−–]\d(?:\.\d+)?)\s*(?:'?s)?\s*(?:votes?)?\s*(?:\((?:non[- ]?)?binding\))?"
    r"\s*:?\s*$",
    re.IGNORECASE,
)


def _listing_lines(lines: Sequence[str]) -> set[int]:
    """A value alone on its line over a column of three or more names ("+1" then
    "Michael Armbrust", "Sean Owen", ...): someone listing voters, not voting."""
    found: set[int] = set()
    for index, line in enumerate(lines):
        if not _VALUE_ALONE_RE.match(line):
            continue
        names: list[int] = []
        for following in range(index + 1, len(lines)):
            if not lines[following].strip() and not names:
                continue
            if not _is_name_line(lines[following]):
                break
            names.append(following)
        if len(names) >= _LISTING_MIN_NAMES:
            found.update([index, *names])
    return found


def _is_name_line(line: str) -> bool:
    match = _NAME_LINE_RE.match(line)
    if match is None:
        return False
    return all(word[0].isupper() or not word[0].isascii() for word in match["name"].split())


def _is_legend(block: Sequence[tuple[int, str]], lines: Sequence[str]) -> bool:
    # A reply's "+1 for A / -1 for B" is a conflict to report, so a block of
    # values is a legend only when it defines what the values mean.
    values = {token for _, token in block}
    defining = sum(1 for i, _ in block if _DEFINITION_RE.match(_EMPTY_BOX_RE.sub("", lines[i])))
    return len(block) >= 2 and len(values) >= 2 and 2 * defining >= len(block)


def _value_start(line: str) -> re.Match[str] | None:
    """A signed value (or a bare 0) opening a line, past any checkbox."""
    body = _CHECKED_BOX_RE.sub("", _EMPTY_BOX_RE.sub("", line, count=1), count=1).lstrip()
    match = _VALUE_RE.match(body)
    if match and (match.group("sign") or match.group("num") == "0"):
        return match
    return None


def _is_result_like(line: str) -> bool:
    """``+1 : Olivier, Herve``, ``+1: 5`` or ``+1 Alice, +1 Bob`` - someone reporting a
    count, not voting."""
    if len(_TALLY_ENTRY_RE.findall(line)) >= 2:
        return True
    # A bullet may lead it ("* -1: none"), as Markdown results write their lines.
    match = re.match(
        r"^\s*(?:[*•-]\s+)?[+\-−–]?\d(?:\.\d+)?\s*(?:'?s)?\s*(?:\((?:non[- ]?)?binding\))?"
        r"\s*:\s*(.+)$",
        line,
    )
    if not match:
        return False
    rest = match.group(1).strip()
    if re.fullmatch(r"\d+\b.*", rest) or rest.casefold() in {"none", "nobody", "-"}:
        return True
    parts = [p.strip() for p in re.split(r",|;|\band\b", rest) if p.strip()]
    capitalised = r"[A-ZÀ-Þ][\w'’.-]*(?:\s+[A-ZÀ-Þ][\w'’.-]*){0,3}"
    if len(parts) >= 2:
        return all(re.fullmatch(capitalised, p) for p in parts)
    # One person's name under a bullet of a result's list ("* +1: Jonas Weber"), as a
    # first and a last name: a ballot's reason is not written so ("* +1: LGTM").
    return bool(_BULLET_RE.match(line)) and _ONE_NAME_RE.fullmatch(rest) is not None


_BULLET_RE = re.compile(r"^\s*[*•-]\s+")
_ONE_NAME_RE = re.compile(r"[A-ZÀ-Þ][a-zß-ÿ'’.-]+(?:\s+[A-ZÀ-Þ][a-zß-ÿ'’.-]+){1,3}")


# --------------------------------------------------------------------------
# Values in their sentence: a ballot, a condition, a mention or noise
# --------------------------------------------------------------------------


def _cut_before(lines: Sequence[str], index: int) -> str:
    """The words a value at the start of ``lines[index]`` goes on from, when the writer's
    client wrapped a sentence there: "passes if at least three" / "+1 PMC votes are cast",
    "it needs three +1 votes and no" / "-1 (a -1 is a veto ...)". Only after a line that
    ends in a word no sentence ends with, so "Hi all" over "+1" stays a ballot.

    A value further into its line ("... and an explicit opt-out would" / "get my +1.")
    goes on from a line the client wrapped: one as long as wrapped lines are, that ends
    in no stop, when nothing before the value in its own line ends a sentence."""
    if index == 0:
        return ""
    previous = lines[index - 1].rstrip()
    if not previous or previous.endswith((".", "!", "?", ":", ",")):
        return ""
    if _VALUE_AT_START_RE.match(lines[index]):
        words = _WORD_RE.findall(previous[-60:])
        wrapped = len(previous) >= _WRAPPED_WIDTH  # "... so I don't want to give a full" / "+1."
        if not words or (words[-1].casefold() not in _CUT_WORDS and not wrapped):
            return ""
    else:
        value = _VALUE_RE.search(lines[index])
        if (
            len(previous) < _WRAPPED_WIDTH
            or value is None
            or _SENTENCE_SPLIT_RE.search(lines[index][: value.start()])
        ):
            return ""
    return _SENTENCE_SPLIT_RE.split(previous)[-1].strip()


# A line at least this long, that ends in no stop, was wrapped by the writer's client
# (they wrap at 72 to 80 columns; a checklist's "- built from source" is shorter).
_WRAPPED_WIDTH = 55


def _hits_in_line(line: str, cut: str = "") -> list[_Hit]:
    """The values in one line; ``cut`` is the wrapped start of its first sentence."""
    hits: list[_Hit] = []
    body = _ballot_body(line)
    for number, sentence in enumerate(s.strip() for s in _SENTENCE_SPLIT_RE.split(body)):
        lead = f"{cut} " if cut and number == 0 else ""
        sentence = lead + sentence
        matches = [m for m in _VALUE_RE.finditer(sentence) if m.start() >= len(lead)]
        changed_to = _changed_to(sentence, matches)
        for match in matches:
            value = value_of(match.group("sign"), match.group("num"))
            if changed_to is not None:
                sort = _change_sort(sentence, changed_to) if match is changed_to else _Sort.IGNORE
            else:
                sort = _classify(sentence, match)
            rest = _REST_NOISE_RE.sub("", sentence[match.end() :])
            hits.append(_Hit(sort, value, sentence, rest))
    return hits


def _ballot_body(line: str) -> str:
    return _LEAD_RE.sub("", _CHECKED_BOX_RE.sub("", line, count=1), count=1)


# What may stand between a value taken back and the one cast instead: ", ", "; and I'm now ".
_THEN_CAST_RE = re.compile(
    r"\s*(?:[,;]|[,;]?\s*\band\b)\s*(?:(?:i'?m|i\s+am)\s+)?(?:now\s+)?", re.IGNORECASE
)


def _changed_to(sentence: str, matches: Sequence[re.Match[str]]) -> re.Match[str] | None:
    """In "I change my -1 to +1" only the new value is a ballot; "Changing my vote to
    -1 because ..." names the old one only as "my vote"; "I withdraw my -1, +1 now" takes
    one back and casts the other."""
    if len(matches) == 2 and _WITHDRAW_RE.search(sentence[: matches[0].start()]):
        # "I withdraw my -1, +1 now (binding).": the value taken back, then the new one.
        between = sentence[matches[0].end() : matches[1].start()]
        if _THEN_CAST_RE.fullmatch(between):
            return matches[1]
    if not matches or not _CHANGE_RE.search(sentence):
        return None
    if len(matches) == 1 and not _MY_VOTE_RE.search(sentence[: matches[0].start()]):
        return None
    for match in reversed(matches):
        if re.search(r"\b(?:to|into)\s*$", sentence[: match.start()], re.IGNORECASE):
            return match
    return None


def _change_sort(sentence: str, new: re.Match[str]) -> _Sort:
    """The new value of a change is cast now, unless the change waits on something: "I'd
    change my -1 to +1 if the NOTICE were fixed", "... once it is" keep the -1 standing."""
    before, after = sentence[: new.start()], sentence[new.end() :]
    # "If it's tracked for 0.9.3 I don't want to hold up the fixes, so I'm changing my
    # vote to +0": what comes before ", so" is the reason for the change.
    if _CONDITION_BEFORE_RE.search(own_clause(before)) or _CONDITION_AFTER_RE.match(after):
        return _Sort.CONDITIONAL
    if _promised_for_later(before, after):
        return _Sort.CONDITIONAL
    return _Sort.BALLOT


def _promised_for_later(before: str, after: str) -> bool:
    """A change of vote promised for a time or event ("I'll change my vote to +1 after I
    test on Windows"): not the change yet. "so I'll move from -1 to 0 rather than +1."
    makes it now."""
    return bool(_PROMISE_RE.search(before) and _LATER_RE.match(after))


def _only_the_value_taken_back(hits: Sequence[_Hit], taken_back: re.Match[str]) -> bool:
    """Whether every value in the post is the one "I withdraw my +1" takes back ("I
    withdraw my -1, +1 now" casts another)."""
    if taken_back["value"] is None:
        return not hits
    value = signed_value(taken_back["value"])
    return all(h.value == value for h in hits)


def _classify(sentence: str, match: re.Match[str]) -> _Sort:
    before, after = sentence[: match.start()], sentence[match.end() :]
    sign, num = match.group("sign"), match.group("num")
    at_start = not before.strip(" \t*_([\"'")
    if sign is None:
        # A bare "0" is a ballot only on its own, or marked as one ("0 (binding): no time
        # to test", "0, no opinion"); "0 failures" and "0 binding votes" are not.
        plain_zero = (
            num.startswith("0")
            and at_start
            and bool(
                _TAIL_RE.match(after)
                or _MARKED_BALLOT_RE.match(after)
                or _DASH_REASON_RE.match(after)
                or _COMMA_REASON_RE.match(after)
            )
        )
        return _Sort.BALLOT if plain_zero else _Sort.IGNORE
    if (
        _RESULT_STATEMENT_RE.search(sentence)
        or _PLEASE_RE.search(before)
        or sentence.rstrip().endswith("?")
    ):
        return _Sort.IGNORE
    if _VOTES_NOUN_RE.match(after) and not before.rstrip().casefold().endswith("my"):
        return _Sort.IGNORE
    clause = _CLAUSE_BREAK_RE.split(before)[-1]
    if not at_start and _RULE_RE.search(clause):
        return _Sort.IGNORE
    words = _words_before(before)
    previous = words[-1] if words else ""
    if previous in _COUNT_WORDS or re.fullmatch(r"\d[\d:.]*", previous):
        return _Sort.IGNORE
    if previous in _ARTICLE_WORDS and len(words) > 1 and words[-2] in _REQUEST_WORDS:
        return _Sort.IGNORE  # "looking for a +1", "waiting for another +1"
    if _NEGATED_RE.search(clause):
        return _Sort.UNSURE
    if _SOMEONE_ELSES_RE.search(clause) or _RELAYED_RE.search(before):
        return _Sort.IGNORE  # "she told me she is -1", "pass on his vote: +1 for Devraj"
    if _WITHDRAW_RE.search(sentence):
        return _Sort.UNSURE
    sort = _context_sort(before, after, previous, at_start)
    if sort is _Sort.BALLOT and (
        _CONDITION_BEFORE_RE.search(own_clause(before))
        or _CONDITION_AFTER_RE.match(after)
        or (_CONDITION_LEAD_RE.match(before) and _PROMISE_RE.search(before))
    ):
        return _Sort.CONDITIONAL
    return sort


def _context_sort(before: str, after: str, previous: str, at_start: bool) -> _Sort:
    if _FROM_ME_RE.match(after):
        return _Sort.BALLOT
    if previous == "to" and _CHANGE_RE.search(before) and not _DENIED_RE.search(before):
        # "Moving to -0: I still think ...", "Switching to +1, then."; but "I'll switch
        # to +1 for RC2" waits.
        return _Sort.CONDITIONAL if _promised_for_later(before, after) else _Sort.BALLOT
    if previous == "own" and before.casefold().rstrip().endswith(("my own", "our own")):
        return _Sort.BALLOT  # "My own +1 (binding) as release manager."
    if previous not in _ARTICLE_WORDS and _FROM_SELF_DESCRIBED_RE.match(after):
        return _Sort.BALLOT
    if _KEEPS_RE.search(before):
        return _Sort.BALLOT  # "On (2) I'm keeping the -1.", "I stand by the -1."
    if previous in _ARTICLE_WORDS or _FROM_OTHER_RE.match(after):
        # "translate this to a +1", "+1 from Olivier": talk about votes.
        return _Sort.UNSURE
    if at_start or previous in _INTRO_WORDS or re.search(r"[,:;\-–—(!]\s*$", before):
        return _Sort.BALLOT
    if _TAIL_RE.match(after):
        return _Sort.BALLOT
    return _Sort.UNSURE


def _words_before(before: str) -> list[str]:
    # Annotations between intro word and value ("my non-binding +1") do not change the context.
    cleaned = _ANNOTATION_RE.sub(" ", before)
    return [w.casefold().replace("’", "'") for w in _WORD_RE.findall(cleaned)]


# --------------------------------------------------------------------------
# Around the ballot: binding claims, the stated reason, vague wording
# --------------------------------------------------------------------------


def _self_declared(sentences: Iterable[str], prose: str) -> bool | None:
    """What the voter says about their own ballot (recorded, never trusted)."""
    for sentence in sentences:
        if _NON_BINDING_RE.search(sentence):
            return False
        if _BINDING_RE.search(sentence):
            return True
    # Elsewhere in the post only explicit labels count: "binding" alone is too
    # common in talk about votes ("still waiting for binding votes"). Nor does a rule
    # for other people's ballots: a call's "Everyone else is welcome to vote too; those
    # votes are non-binding" says nothing of the caller's own "My vote: +1".
    if any(
        _NON_BINDING_RE.search(sentence) and not _OTHERS_BALLOTS_RE.search(sentence)
        for sentence in _SENTENCE_SPLIT_RE.split(prose)
    ):
        return False
    return True if _BINDING_LABEL_RE.search(prose) else None


_OTHERS_BALLOTS_RE = re.compile(
    r"\b(?:everyone|everybody|anyone|anybody)\s+else\b|\b(?:those|their|other|others')\s+"
    r"(?:votes?|ballots?)\b|\bvotes?\s+(?:of|from|by)\s+(?:everyone|others|non-)"
    # The kind in the plural: "non-binding votes will be reported in the result".
    r"|\bnon[- ]?binding\s+(?:votes|ballots)\b",
    re.IGNORECASE,
)


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


def _vague_reading(lines: Sequence[str], prose: str) -> BallotReading | None:
    sentences = paragraph_sentences(lines)
    for pattern, reason in _VAGUE_PATTERNS:
        found = next((s for s in sentences if _unhedged_match(pattern, s)), None)
        if found:
            return _ambiguous(ReadingKind.VAGUE, [found], prose, reason)
    sentence = _tested_fine(sentences)
    if sentence:
        reason = "reports a successful test but states no value"
        return _ambiguous(ReadingKind.VAGUE, [sentence], prose, reason)
    return None


def _unhedged_match(pattern: re.Pattern[str], sentence: str) -> bool:
    # "If only that worked for me :(" is a complaint, not approval.
    match = pattern.search(sentence)
    return match is not None and not _HEDGE_RE.search(sentence[: match.start()])


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


def marked_template(quoted: Sequence[str]) -> tuple[float, str] | None:
    """The value a voter checked in the ballot template they quoted: "> [x] -1 ...".

    Many voters answer a call by quoting its ``[ ] +1 / [ ] 0 / [ ] -1`` template
    and checking one box. The quoted block must be the template (other boxes left
    empty) with exactly one box checked; deeper quotes are someone else's.
    """
    for block in quoted:
        lines = block.splitlines()
        empty = [line for line in lines if _EMPTY_BOX_RE.match(line) and _value_start(line)]
        checked = [line for line in lines if _CHECKED_BOX_RE.match(line) and _value_start(line)]
        if len(checked) == 1 and empty:
            match = _value_start(checked[0])
            if match is not None:
                return value_of(match.group("sign"), match.group("num")), checked[0].strip()
    return None


def paragraph_sentences(lines: Sequence[str]) -> list[str]:
    """The sentences of some lines, read across line breaks but not across blank lines."""
    paragraphs = " ".join(line if line else "\n" for line in lines).split("\n")
    return [
        s.strip()
        for paragraph in paragraphs
        for s in _SENTENCE_SPLIT_RE.split(" ".join(paragraph.split()))
        if s.strip()
    ]


def word_count(text: str) -> int:
    return len(_WORD_RE.findall(text))
