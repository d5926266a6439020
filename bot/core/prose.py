"""A post's own words as a reader sees them: paragraphs, list items and sentences.

``Post.text`` is already the new text (quotes, attributions, signatures and
list footers are split off by :mod:`bot.core.text`). What is left still holds
things nobody *says*: code and patches, GitHub's "@x commented on this pull
request." preambles, closing formulas ("Best regards, / Martijn"), bot
commands, stray attribution lines in other languages. This module drops them
and cuts the rest into :class:`Unit` s, one sentence each, remembering the
structure a reader uses to see where one point ends and the next begins:

- a *paragraph* is a run of lines between blank lines;
- a *list item* starts at a label ("1.", "2)", "-", "*", "•", "(a)", "a)",
  "D0.", "B1:") and runs over its wrapped continuation lines until the next
  label or a blank line;
- a paragraph ending in ":" that is followed by list items *introduces* them.

Sentences are split on end punctuation followed by a capital, a digit or an
opening mark (so "e.g. foo" and "... unless" stay whole), and a line that ends
in "?" or "." always ends its sentence, however the mail was wrapped.

Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate, pairwise

from bot.core.commands import DEFAULT_HANDLE, is_command_line, is_foreign_command_line
from bot.core.text import MONTH_NAME, code_lines, mask_inline_code

# Labels that open a list item. "D0." and "B1:" are how some RFCs name their points.
_ITEM_LABEL = re.compile(
    r"^(?P<indent>\s{0,8})(?P<label>[-*•+◦‣]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)](?=\s)|\([a-zA-Z]\)"
    # Roman numerals ("(ii)", "II."), reStructuredText's auto-numbered "#.".
    r"|\(?[ivx]{1,4}\)|\(?(?:[ivx]{2,4}|[IVX]{2,4})\.(?=\s)|#\.|[A-Z]\d{1,2}[.:)])\s+(?=\S)"
)
# A postscript's or nota bene's mark opening a line ("P. S. I have contributed ..."):
# not a list item "P." whose text is "S. ...", and no sentence of its own.
_ASIDE_MARK = re.compile(r"^\s*(?:P\.?\s?P\.?\s?S|P\.?\s?S|N\.?\s?B)\.?(?:[:,-]\s*|\s+)(?=\S)")
# GitHub notification mail: who did what, and where; none of it is what they said.
_GITHUB_PREAMBLE = re.compile(
    r"^\s*(?:@[\w-]+\s+(?:commented|approved|requested\s+changes|reviewed|dismissed|pushed|"
    r"requested\s+your\s+review)\b.*|In\s+\S+:\s*|On\s+\S+\s+line\s+\d+:?\s*|"
    r"(?:Outdated|Resolved)\s*)$",
    re.IGNORECASE,
)
# Gerrit's review mail: who did what to which change, the patch set's vote, how many
# comments, and where each comment sits ("File net/conntab.c:", "Line 120: <the code
# line>"); the comments under them are the reviewer's words.
_GERRIT_PREAMBLE = re.compile(
    r"^(?:.+\s+has\s+(?:posted\s+comments\s+on|uploaded\s+a\s+new\s+patch\s+set\s+\(#\d+\)"
    r"(?:\s+and\s+posted\s+comments\s+on)?|abandoned|restored|submitted|merged)\s+this\s+change\b.*"
    r"|Change\s+subject:\s.*|\.{10,}|Patch\s+Set\s+\d+:.*|\(\d+\s+(?:inline\s+)?comments?\)"
    r"|File\s+\S+:|(?:PS\d+,\s+)?Line\s+\d+:.*|https?://\S+)$"
)
# GitLab's notification mail: who did what where, with the link ("Wen Zhao started a new
# discussion on meson.build: https://...", "Merge request !412 was reviewed by Oskar").
_GITLAB_PREAMBLE = re.compile(
    r"^(?:.+\s+(?:started\s+a\s+new\s+discussion|commented\s+on\s+a\s+discussion|commented"
    r"|created\s+a\s+merge\s+request|submitted\s+a\s+review)(?:\s+on\s+\S+)?:\s*https?://\S+"
    r"|Merge\s+request\s+!\d+\s+was\s+(?:reviewed|approved|merged)\s+by\s+.+)$",
    re.IGNORECASE,
)
# A forum's byline over a post mailed in mailing-list mode: the poster's profile link,
# their name and the date ("[kwatanabe](https://forum.example.org/u/kwatanabe) Kenji
# Watanabe September 10"). Who wrote it is in the headers; it is no sentence of theirs.
_FORUM_BYLINE = re.compile(
    r"^\[[\w.-]+\]\(https?://\S+/u/[\w.-]+/?\)(?:\s+\S+){0,8}$"
    # "Priya Raman (@priya.raman) · Core Developer · February 23": name, handle, title, date.
    r"|^[^·()\n]{1,60}\(@[\w.-]+\)(?:\s*·\s*[^·\n]{1,40}){1,3}$"
)
# A date alone on its line (the byline's, wrapped): "September 10", "10 Sep 2024".
_MONTH = MONTH_NAME + r"\.?"
# (A month alone is no date: "Mark", "May" and "June" sign mail.)
_DATE_LINE = re.compile(
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    rf"(?:\d{{1,2}}\s+{_MONTH}(?:,?\s+\d{{4}})?|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}})|\d{{4}}-\d{{2}}-\d{{2}}",
    re.IGNORECASE,
)
# The template ASF GitBox mails with every pull request; nobody wrote it.
_GITBOX_TEMPLATE = re.compile(
    r"^\s*(?:You can merge this pull request into a Git repository by running:"
    r"|Alternatively you can review and apply these changes as the patch at:"
    r"|To close this pull request, make a commit to"
    r"|with \(at least\) the following in the commit message:|This closes #\d+"
    r"|commit [0-9a-f]{7,40}$|Author: .+<.+@.+>$|Date: +\w{3} \w{3} "
    # The event line and link it opens with ("hboutemy commented on issue #27: <title>"),
    # and the note it puts above a merged fork's diff.
    # Since 2023: "jdoe commented on code in PR #482:", "jdoe opened a new issue, #41:".
    r"|[\w.-]+(?:\[bot\])? (?:commented on(?: a change in| code in)?|opened(?: a new)?|closed"
    r"|merged|reopened|edited|submitted a review on|approved|dismissed a review on"
    r"|requested changes on)"
    r" (?:pull request|PR|issue|discussion),? #\d+:|URL: https://github\.com/\S+$"
    r"|This is a PR merged from a forked repository"
    r"|As GitHub hides the original diff on merge|the sake of provenance:"
    r"|As this is a foreign pull request|below \(as it won't show otherwise due to GitHub magic\))",
    re.IGNORECASE,
)
# Attribution lines the quote splitter kept, in the forms other languages and clients use.
_ATTRIBUTION = re.compile(
    r"(?:<[^<>\s]+@[^<>\s]+>|\b(?:wrote|writes|schrieb|a\s+écrit|escribió|пишет|написал)\b"
    r"|写道|寫道|\b\d{4}\b.{0,30}\d{1,2}:\d{2}).{0,60}[:：]\s*$",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:thanks(?:\s+(?:again|all|everyone|a\s+lot|much))?|thank\s+you(?:\s+all)?|many\s+thanks"
    r"|best(?:\s+(?:regards|wishes))?|kind\s+regards|warm\s+regards|regards|cheers|sincerely"
    r"|br|greetings|ciao|yours|thx|hth|--\s*\w*|-{3,}\s*\w+)[\s,.!]*$",
    re.IGNORECASE,
)
# A short line of a name or initials after the last paragraph: "-Peff", "// Simon", "Tom",
# "Jiangjie (Becket) Qin": capitalised words, no sentence end.
# At most this many words on each line under a closing formula: a name, a title, a link.
SIGNATURE_LINE_WORDS = 8
_NAME_LINE = re.compile(r"^\s*(?:[-/~]+\s*)?(?:\(?[A-Z\u00c0-\u024f][\w.'-]*\)?\s*){1,4}$")
# "-John" or "// Simon" ending the last paragraph itself.
_DASHED_NAME = re.compile(r"^\s*(?:-{1,2}|//|~)\s*[\w.' ]{1,30}$")
# "Hi all,", "Igniters,", "Hello!", "Hi Jim," opening the post; "Hello" alone on its line.
_GREETING = re.compile(
    r"^\s*(?:(?:(?:hi|hello|hey|dear|hallo|greetings)\b[^.?]{0,30}|[\w.' -]{1,30})[,!]"
    r"|(?:hi|hello|hey|hallo|greetings)(?:\s+(?:all|everyone|folks|team|there))?)\s*$",
    re.I,
)
_RULE = re.compile(r"^\s*(?:-{3,}|={3,}|\*{3,}|_{3,})\s*$")
# A listing: at least this many rules, each entry between two of them at most so long.
LISTING_RULES = 4
LISTING_ENTRY_LINES = 3
# GitBox's review comment mail: the code it is on between rules of ten "#", then this.
_REVIEW_HUNK_RULE = re.compile(r"^#{10,}$")
_REVIEW_COMMENT = re.compile(r"^Review Comment:$")
_PATCH_START = re.compile(r"^(?:diff --git |index [0-9a-f]+\.\.|--- a/|\+\+\+ b/|@@ )")
_DIFFSTAT = re.compile(r"^\s*\S+\s+\|\s+\d+\s*[+-]*\s*$|^\s*\d+ files? changed\b")
_TRAILER = re.compile(r"^\s*(?:Signed-off-by|Acked-by|Reviewed-by|Cc|Helped-by|Reported-by):\s")
_PGP = re.compile(r"^-----(?:BEGIN|END) PGP (?:SIGNED MESSAGE|SIGNATURE)-----")
_PGP_HASH = re.compile(r"^Hash: [\w, -]+$")
# A line of XML (a POM's "<version>1.4.10</version>", "<dependency gav=\"...\"/>"),
# pasted without a fence: markup from its first character to its last.
_MARKUP_LINE = re.compile(r"^</?[A-Za-z][\w:.-]*(?:\s[^<>]*)?/?>(?:[^<>]*</[A-Za-z][\w:.-]*>)?$")
# Discourse's BBCode on a line of its own: "[details="Benchmarks"]", "[/spoiler]". What
# it wraps is the writer's; the tag is not.
_BBCODE_LINE = re.compile(
    r"^\[/?(?:details|spoiler|center|right|left|size|color|wrap|date|grid)\b[^\]]*\]$",
    re.IGNORECASE,
)
_POLL_OPENS = re.compile(r"^\s*\[poll\b[^\]]*\]\s*$", re.IGNORECASE)
_POLL_CLOSES = re.compile(r"^\s*\[/poll\]\s*$", re.IGNORECASE)
_REFERENCE = re.compile(r"^\s*\[\d+\]:?\s*(?:https?://\S+)?\s*$|^\s*<?https?://\S+>?\s*$")
_SHELL = re.compile(r"^\s*[$#]\s+\S")
# A line of build or program output pasted in: "[ERROR] Found a problem with ...",
# "2017-11-05 17:57:27,123 WARN ...", "ERROR: ...", "Caused by: ...", "at org.x.Y(Y.java:12)".
_LOG_LINE = re.compile(
    r"^\s*(?:\[(?:ERROR|WARNING|WARN|INFO|DEBUG|TRACE|FATAL)\]|(?:ERROR|WARNING|FATAL|SEVERE):\s"
    r"|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}|Caused by:\s|at\s+[\w$.]+\([\w$.]+:\d+\))"
    # A compiler's diagnostic and its source frame: "error[E0308]: mismatched types",
    # "--> src/main.rs:4:18", "4 |     let x: i32 = ...".
    r"|^\s*(?:error|warning)\[[A-Z]?\d+\]:\s|^\s*-->\s+\S+:\d+(?::\d+)?\s*$"
    r"|^\s*\d+\s*\|\s|^\s*\|\s*$|^\s*\|\s+[\^\-~]"
    # An exception as Java and Python print it: 'Exception in thread "main" ...',
    # "java.lang.IllegalStateException: ...", "RuntimeError: ...", "... 12 more".
    r"|^Exception\s+in\s+thread\s+\"|^(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)\b(?::|$)"
    r"|^[A-Z]\w*(?:Error|Exception):\s|^\s*\.\.\.\s+\d+\s+more\s*$"
)
# A Python traceback: its header, then indented frames, to the exception line.
_TRACEBACK_START = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")
# A ballot form in a [VOTE] call, quoted without ">" by a reply: "[ ] +1 ship it".
_TEMPLATE = re.compile(r"^\[\s?[xX ]?\s?\]\s")
_BOUNDARY = re.compile(r"[.!?]+[\"')\]*_]*\s+")
_ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "mr.", "dr.", "no.", "al.", "resp.", "ca."}
)
# Mail wraps near 72 columns; a line much shorter than that was ended on purpose.
HARD_BREAK_BELOW = 40


@dataclass(frozen=True, slots=True)
class Unit:
    """One sentence of a post's own prose, and where it sits."""

    text: str
    probe: str
    index: int
    paragraph: int
    item: int | None = None
    label: str = ""
    starts_line: bool = True
    first_in_paragraph: bool = False
    introduces_list: bool = False
    introduced: bool = False
    # How many non-blank lines of the text come before its paragraph: where it sits
    # among the quotes it answers (Post.quote_at counts the same way).
    line: int = 0

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def is_question(self) -> bool:
        return self.text.rstrip(" )\"'*_").endswith("?")

    @property
    def point(self) -> tuple[int, int | None]:
        """What a reader takes as one place in the post: a paragraph, or one item of a list."""
        return (self.paragraph, self.item)


def probe(text: str) -> str:
    """What cues read: lower case, typographic quotes and spaces made plain."""
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    plain = re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip().casefold()
    # "... why do you need convenience?" goes on from the sentence before; its own words
    # start after the dots, where a reader starts reading it.
    return re.sub(r"^(?:\.{2,}|…)\s*", "", plain)


def units_of(text: str, handle: str = DEFAULT_HANDLE) -> tuple[Unit, ...]:
    """The sentences of a post's own prose, in order, with their paragraph and list item."""
    lines = _prose_lines(text, handle)
    written = list(accumulate((bool(line.strip()) for line in text.splitlines()), initial=0))
    units: list[Unit] = []
    paragraph = -1
    previous: _Block | None = None
    for block in _blocks(lines):
        if not _continues(previous, block):
            paragraph += 1
        previous = block
        intro = _is_intro(block, lines) or block.introduces
        for item_number, (label, item_lines) in enumerate(block.items):
            item = item_number if label else None
            for sentence, masked, starts_line in _sentences(item_lines):
                units.append(
                    Unit(
                        text=sentence,
                        probe=probe(masked),
                        index=len(units),
                        paragraph=paragraph,
                        item=item,
                        label=label,
                        starts_line=starts_line,
                        first_in_paragraph=not units or units[-1].paragraph != paragraph,
                        introduces_list=intro and not label,
                        introduced=bool(label) and block.introduced,
                        line=written[block.start],
                    )
                )
    return tuple(units)


# --------------------------------------------------------------------------
# Lines: what is prose at all
# --------------------------------------------------------------------------


def _prose_lines(text: str, handle: str) -> list[tuple[str, str] | None]:
    """Each line as (text, code-masked text), or None where a reader sees no prose."""
    raw = text.splitlines()
    reviewed = _review_hunk_lines(raw)
    code = (
        code_lines(raw)
        | reviewed
        | _patch_lines(raw, reviewed)
        | _example_lines(raw)
        | _listing_lines(raw)
        | _traceback_lines(raw)
        | _signature_armour(raw)
        | _poll_lines(raw)
    )
    out: list[tuple[str, str] | None] = []
    for index, line in enumerate(raw):
        if index in code or _not_prose(line, handle):
            out.append(None)
        else:
            out.append((line.rstrip(), mask_inline_code(line.rstrip())))
    return _drop_sign_off(out)


def _not_prose(line: str, handle: str) -> bool:
    stripped = line.strip()
    return (
        not stripped
        or _GITHUB_PREAMBLE.match(stripped) is not None
        or _GITBOX_TEMPLATE.match(stripped) is not None
        or _GERRIT_PREAMBLE.match(stripped) is not None
        or _GITLAB_PREAMBLE.match(stripped) is not None
        or _FORUM_BYLINE.match(stripped) is not None
        or _DATE_LINE.fullmatch(stripped) is not None
        or is_command_line(line, handle)
        or is_command_line(line, "rfcbot")  # any verb of rfcbot's: "@rfcbot fcp merge"
        or is_foreign_command_line(line)
        or (len(stripped.split()) <= 20 and _ATTRIBUTION.search(stripped) is not None)
        or _TRAILER.match(stripped) is not None
        or _PGP.match(stripped) is not None
        or _MARKUP_LINE.match(stripped) is not None
        or _BBCODE_LINE.match(stripped) is not None
        or _REFERENCE.match(stripped) is not None
        or _SHELL.match(line) is not None
        or _LOG_LINE.match(stripped) is not None
        or stripped.startswith("/")  # slash commands: "/retitle", "/lgtm"
        or _TEMPLATE.match(stripped) is not None
        or _RULE.match(stripped) is not None  # a rule ends a paragraph; it says nothing
    )


def _signature_armour(lines: list[str]) -> frozenset[int]:
    """A clear-signed mail's armour: the "Hash:" header under its first marker, and the
    signature block, marker to marker. The signed text between them is the post."""
    found: set[int] = set()
    in_signature = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped == "-----BEGIN PGP SIGNATURE-----":
            in_signature = True
        if in_signature or (
            _PGP_HASH.match(stripped) and index > 0 and _PGP.match(lines[index - 1].strip())
        ):
            found.add(index)
        if stripped == "-----END PGP SIGNATURE-----":
            in_signature = False
    return frozenset(found)


def _review_hunk_lines(lines: list[str]) -> frozenset[int]:
    """The code GitBox quotes above each review comment, between "##########" rules (the
    file's path between them, then the hunk) and down to "Review Comment:"; what follows
    that line is the reviewer's own words."""
    return _spans(lines, _REVIEW_HUNK_RULE, _REVIEW_COMMENT)


def _patch_lines(lines: list[str], quoted: frozenset[int] = frozenset()) -> frozenset[int]:
    """A patch mail's diffstat and diff, from the first diff header to the end; a hunk a
    review comment quotes (``quoted``) starts none."""
    found: set[int] = set()
    in_patch = False
    for index, line in enumerate(lines):
        if index in quoted:
            continue
        if _PATCH_START.match(line):
            in_patch = True
        if in_patch or _DIFFSTAT.match(line):
            found.add(index)
    return frozenset(found)


def _poll_lines(lines: list[str]) -> frozenset[int]:
    """A Discourse poll ("[poll ...]" to "[/poll]"): its options are choices offered to
    the reader ("I am worried about both"), not what the writer says."""
    return _spans(lines, _POLL_OPENS, _POLL_CLOSES)


def _spans(lines: list[str], opens: re.Pattern[str], closes: re.Pattern[str]) -> frozenset[int]:
    """Every line from one ``opens`` matches to the next one ``closes`` matches, both
    included (each line stripped); an opening that nothing closes marks nothing."""
    found: set[int] = set()
    opened: int | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if opened is None and opens.match(stripped):
            opened = index
        elif opened is not None and closes.match(stripped):
            found.update(range(opened, index + 1))
            opened = None
    return frozenset(found)


def _listing_lines(lines: list[str]) -> frozenset[int]:
    """A pasted listing: entries of one to three lines between rule lines ("----"), as a
    commit log or a changelog is pasted. Its "test was wrong" is a commit's, not the
    writer's. Sections of prose between rules have paragraphs, or more lines."""
    rules = [i for i, line in enumerate(lines) if _RULE.match(line)]
    found: set[int] = set()
    for start, end in pairwise(rules):
        entry = lines[start + 1 : end]
        if 1 <= len(entry) <= LISTING_ENTRY_LINES and all(line.strip() for line in entry):
            found.update(range(start, end + 1))
    if len({i for i in rules if i in found}) < LISTING_RULES:
        return frozenset()
    # The entries just before the first rule and after the last one, when they touch it.
    for rule, step in ((min(found), -1), (max(found), 1)):
        index = rule + step
        while 0 <= index < len(lines) and lines[index].strip() and abs(index - rule) <= 3:
            found.add(index)
            index += step
    return frozenset(found)


def _traceback_lines(lines: list[str]) -> frozenset[int]:
    """A pasted Python traceback: its header, its indented frames and code, and the line
    naming the exception. The exception's message is the program's, not the writer's."""
    found: set[int] = set()
    inside = False
    for index, line in enumerate(lines):
        if _TRACEBACK_START.match(line):
            inside = True
        elif inside and not line[:1].isspace():
            found.add(index)  # the exception line ends it
            inside = False
            continue
        if inside:
            found.add(index)
    return frozenset(found)


def _example_lines(lines: list[str]) -> frozenset[int]:
    """Commands and code indented under a line that ends in ":" ("it works to do:").

    Markdown wants four spaces for code; mail writers use two. A list item is
    never an example, and neither is a line that reads as a sentence.
    """
    found: set[int] = set()
    opened_by_colon = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        indented = line[: len(line) - len(line.lstrip())]
        example = len(indented) >= 2 and not _ITEM_LABEL.match(line) and _looks_like_code(stripped)
        if opened_by_colon and example:
            found.add(index)
            continue
        if index in found:
            continue
        opened_by_colon = stripped.endswith(":") or (opened_by_colon and index - 1 in found)
    return frozenset(found)


_CODE_SHAPES = re.compile(
    r"^(?:cd|git|echo|make|cargo|npm|pip|python\d?|sudo|export|rm|mv|cp|ls|cat|ln)\s"
    r"|\$[A-Za-z_{(]|[{};]\s*$|^[\w.]+\(.*\)\s*;?$|\s(?:==|=>|->|:=)\s|^[<#]\w"
)


def _looks_like_code(line: str) -> bool:
    letters = sum(ch.isalpha() or ch == " " for ch in line)
    return bool(_CODE_SHAPES.search(line)) or letters < 0.7 * len(line)


def _drop_sign_off(lines: list[tuple[str, str] | None]) -> list[tuple[str, str] | None]:
    """Cut "Thanks, / Jiangjie (Becket) Qin" and "-Peff" from the end of the post."""
    kept = _drop_disclaimer(list(lines))
    texts = [(i, pair[0]) for i, pair in enumerate(kept) if pair is not None]
    if texts and _GREETING.match(texts[0][1]) and len(texts[0][1].split()) <= 4:
        kept[texts[0][0]] = None
        texts = texts[1:]
    if len(texts) > 1 and _DASHED_NAME.match(texts[-1][1]):
        kept[texts[-1][0]] = None
        texts = texts[:-1]
    # A closing formula in the last few lines ends the prose, when what follows it is a
    # signature: "Awesome work / Thanks a lot / For archetypes split I don't know. ..."
    # thanks first and says its piece after.
    for position, (_, line) in enumerate(texts):
        if (
            len(texts) - position <= 5
            and _CLOSING.match(line)
            and all(len(rest.split()) <= SIGNATURE_LINE_WORDS for _, rest in texts[position + 1 :])
        ):
            for later, _ in texts[position:]:
                kept[later] = None
            return kept
    # Otherwise, a last paragraph of name-like lines with no sentence in it.
    tail: list[int] = []
    for index, line in reversed(texts):
        if len(line.split()) <= 4 and _NAME_LINE.match(line) and not line.rstrip().endswith("?"):
            tail.append(index)
            if index == 0 or kept[index - 1] is None:
                break
            continue
        tail = []
        break
    if tail and len(tail) <= 3 and len(texts) > len(tail):
        for index in tail:
            kept[index] = None
    return kept


# A legal footer's words ("If you are not the intended recipient, ..."): a company's
# mail server adds it, often with no "-- " above it, and none of it is the writer's.
_DISCLAIMER = re.compile(
    r"\bintended\s+recipient|\bconfidentiality\s+notice\b|\bconfidential\s+and\s+(?:may\s+be\s+)?"
    r"(?:legally\s+)?privileged\b",
    re.IGNORECASE,
)
# A legal footer sits in the post's last lines.
DISCLAIMER_LINES = 15


def _drop_disclaimer(kept: list[tuple[str, str] | None]) -> list[tuple[str, str] | None]:
    """Cut a legal footer, from the paragraph its words are in to the end."""
    texts = [(i, pair[0]) for i, pair in enumerate(kept) if pair is not None]
    for index, line in texts[-DISCLAIMER_LINES:]:
        if not _DISCLAIMER.search(line):
            continue
        start = index
        while start > 0 and kept[start - 1] is not None:
            start -= 1
        return kept[:start] + [None] * (len(kept) - start)
    return kept


# --------------------------------------------------------------------------
# Blocks: paragraphs and list items
# --------------------------------------------------------------------------


@dataclass
class _Block:
    items: list[tuple[str, list[tuple[str, str]]]]
    start: int
    end: int
    introduced: bool = False
    # Introduces the paragraphs after it as a list without a colon: "I see three
    # problems here." over "First, ...", "Second, ...".
    introduces: bool = False


def _blocks(lines: list[tuple[str, str] | None]) -> list[_Block]:
    """Paragraphs; a paragraph made of list items keeps each item apart."""
    blocks: list[_Block] = []
    current: _Block | None = None
    for index, pair in enumerate(lines):
        if pair is None:
            current = None
            continue
        line, masked = pair
        aside = _ASIDE_MARK.match(masked)
        if aside:
            line, masked = line[aside.end() :], masked[aside.end() :]
        label = _ITEM_LABEL.match(masked)
        if current is None:
            current = _Block(items=[], start=index, end=index)
            blocks.append(current)
        if label:
            current.items.append((label.group("label"), []))
            cut = label.end()
            line, masked = line[cut:], masked[cut:]
        elif not current.items:
            current.items.append(("", []))
        current.items[-1][1].append((line.strip(), masked.strip()))
        current.end = index
    _mark_ordinal_items(blocks)
    blocks = _mark_headed_sections(blocks)
    _mark_introduced(blocks)
    return blocks


# Paragraphs opening "First, ...", "Second, ...": a list written as prose.
_ORDINAL = re.compile(
    r"^(?P<word>(?:first|second|third|fourth|fifth|sixth)(?:ly)?|finally|lastly)\b[,:]",
    re.IGNORECASE,
)
# A bold heading opening a paragraph: "**Native plugin ABI.** If the ...", "__Docs__: ...".
_BOLD_HEADING = re.compile(r"^(?P<word>(\*\*|__)[^*_\n]{1,60}?\2[.:]?)(?=\s|$)")
# A short label and a colon opening a paragraph: "Big: a year between ...", "Naming: ...".
# (Not an aside's mark: "Note:", "Edit:", "Update:", "Thanks:" end a list, not extend it.)
_LABEL_HEADING = re.compile(
    r"^(?!(?:Note|NB|PS|Edit|Update|Thanks|Cheers|Regards|TL;?DR|Summary|Disclaimer|FYI)\b)"
    r"(?P<word>[A-Z][\w'./-]*(?:\s[\w'./-]+){0,3}:)(?=\s)"
)
# The sentence over them that counts what follows: "I see three problems here."
_COUNTS_POINTS = re.compile(
    r"\b(?:two|three|four|five|six|several|a\s+few|a\s+couple\s+of|some|\d)\s+"
    r"(?:\w+\s+)?(?:concerns?|problems?|issues?|questions?|objections?|points?|things?"
    r"|reasons?|drawbacks?|worries|reservations?)\b",
    re.IGNORECASE,
)


def _mark_ordinal_items(blocks: list[_Block]) -> None:
    """Paragraphs that open "First," then "Second," ..., under a paragraph that counts
    them ("I see three problems here."), are the items of a list that paragraph
    introduces; each keeps its ordinal word, which is part of its sentence. Without the
    count, or alone ("First, thanks for the write-up."), they are paragraphs as before.

    Paragraphs that each open with a bold heading ("**Backports.** Who ...", as forum
    and GitHub writers name their points) under such a count are a list the same way.
    """
    ordinals = [_ordinal_of(block) for block in blocks]
    for index in range(1, len(blocks)):
        intro = blocks[index - 1]
        lead = ordinals[index] or ""
        kind = _lead_kind(lead)
        if (
            not (lead.casefold().startswith("first") or kind != "ordinal")
            or ordinals[index - 1] is not None
            or not _COUNTS_POINTS.search(_last_sentence(intro))
        ):
            continue
        run = _run_of_leads(ordinals, index, kind)
        if len(run) < 2:
            continue
        intro.introduces = True
        for i in run:
            blocks[i].items[0] = (ordinals[i] or "", blocks[i].items[0][1])
            blocks[i].introduced = True


# A Markdown heading on a line of its own: "### 1. Upgrade semantics", "## Drawbacks".
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(?P<title>\S.{0,80})$")
# How many sentences a paragraph that counts the sections under it may have.
SECTIONS_INTRO_SENTENCES = 4


def _mark_headed_sections(blocks: list[_Block]) -> list[_Block]:
    """Sections under Markdown headings ("### 1. Upgrade semantics" over a paragraph),
    right under a paragraph that counts them ("I'm not against the direction, but there
    are a few things I'd like answered before this merges. Sorry, it got long."), are the
    items of a list that paragraph introduces, as GitHub's long reviews lay them out:
    each section's first paragraph is an item, labelled by its heading, and the heading
    is no paragraph of its own any more."""
    headings = [_heading_of(block) for block in blocks]
    labels: set[int] = set()
    for index, intro in enumerate(blocks[:-1]):
        if headings[index] is not None or not _counts_sections(intro):
            continue
        sections: list[int] = []
        at = index + 1
        while at + 1 < len(blocks) and headings[at] is not None and headings[at + 1] is None:
            if blocks[at + 1].items[0][0]:
                break  # a list of its own under the heading
            sections.append(at + 1)
            at += 2
            while at < len(blocks) and headings[at] is None:
                at += 1  # the section's further paragraphs
        if len(sections) < 2:
            continue
        intro.introduces = True
        for section in sections:
            blocks[section].items[0] = (headings[section - 1] or "", blocks[section].items[0][1])
            blocks[section].introduced = True
            labels.add(section - 1)
    return [block for index, block in enumerate(blocks) if index not in labels]


def _heading_of(block: _Block) -> str | None:
    """The title of a paragraph that is a Markdown heading alone."""
    if len(block.items) != 1 or block.items[0][0] or len(block.items[0][1]) != 1:
        return None
    match = _MARKDOWN_HEADING.match(block.items[0][1][0][0])
    return match["title"] if match else None


def _counts_sections(block: _Block) -> bool:
    """A short paragraph, not a list, with a sentence that counts points."""
    if len(block.items) != 1 or block.items[0][0]:
        return False
    text = " ".join(line for line, _ in block.items[0][1])
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return len(sentences) <= SECTIONS_INTRO_SENTENCES and bool(_COUNTS_POINTS.search(text))


def _last_sentence(block: _Block) -> str:
    """The last sentence of a block's last item, however its writer's client wrapped it:
    "Two related points on the Designated Experts, whom the draft relies on" / "quite
    heavily." counts its points on the first of its lines."""
    text = " ".join(line for line, _ in block.items[-1][1])
    return re.split(r"(?<=[.!?])\s+", text.strip())[-1]


def _ordinal_of(block: _Block) -> str | None:
    """The ordinal word or bold heading a paragraph (not a list) opens with, as written:
    "First", "**Backports.**"."""
    if len(block.items) != 1 or block.items[0][0] or not block.items[0][1]:
        return None
    first_line = block.items[0][1][0][0]
    match = (
        _ORDINAL.match(first_line)
        or _BOLD_HEADING.match(first_line)
        or _LABEL_HEADING.match(first_line)
    )
    return match.group("word") if match else None


def _run_of_leads(ordinals: list[str | None], start: int, kind: str) -> list[int]:
    """The blocks from ``start`` on that each open with a lead of the same kind."""
    run: list[int] = []
    for index in range(start, len(ordinals)):
        lead = ordinals[index]
        if lead is None or _lead_kind(lead) != kind:
            break
        run.append(index)
    return run


def _lead_kind(lead: str) -> str:
    """ "ordinal" ("First,"), "bold" ("**Backports.**") or "label" ("Big:")."""
    if lead.startswith(("**", "__")):
        return "bold"
    return "ordinal" if _ORDINAL.match(lead + ",") else "label"


def _mark_introduced(blocks: list[_Block]) -> None:
    """List blocks right after a paragraph that ends in a colon are introduced by it.

    A list may also start inside the introducing paragraph ("My concerns:" then
    "1. ..." on the next line, no blank line between).
    """
    for before, after in pairwise(blocks):
        is_list = any(label for label, _ in after.items)
        # A list whose items are separated by blank lines (or examples) stays introduced.
        continues = before.introduced and all(label for label, _ in after.items)
        if is_list and (_ends_with_colon(before) or continues):
            after.introduced = True
        elif is_list and (_counts_what_follows(before) or _declares_objection(before)):
            # "Two things from me." over "1) Blast radius. ..." and "2) The S3 plugin ...";
            # "I'm registering a formal objection to this proposal." over its grounds.
            after.introduced = before.introduces = True
    for block in blocks:
        labels = [label for label, _ in block.items]
        if len(labels) > 1 and not labels[0] and any(labels[1:]):
            first_lines = block.items[0][1]
            if first_lines and first_lines[-1][0].rstrip().endswith(":"):
                block.introduced = True


def _counts_what_follows(block: _Block) -> bool:
    """A short paragraph of its own that counts points: "Two things from me."."""
    if len(block.items) != 1 or block.items[0][0]:
        return False
    lines = block.items[0][1]
    text = " ".join(line for line, _ in lines)
    # "..., for two reasons." gives the reasons of what it says itself: its items argue it.
    return 0 < len(lines) <= 2 and bool(_COUNTS_POINTS.search(text)) and not _REASONS.search(text)


_REASONS = re.compile(r"\breasons?\b", re.IGNORECASE)


def _declares_objection(block: _Block) -> bool:
    """A short paragraph of its own that declares an objection to the proposal: the list
    right after it gives its grounds."""
    if len(block.items) != 1 or block.items[0][0]:
        return False
    lines = block.items[0][1]
    text = " ".join(line for line, _ in lines)
    return 0 < len(lines) <= 2 and bool(_DECLARES_OBJECTION.search(text))


_DECLARES_OBJECTION = re.compile(
    r"(?<!\bno\s)(?<!\bany\s)\b(?:(?:formal\s+)?objection\s+to\s+(?:this|the)\b|i\s+(?:must\s+|have\s+to\s+)?object\s+to\b"
    r"|i(?:'m|\s+am)\s+(?:a\s+)?-1\s+(?:on|to)\s+(?:this|the)\b|i(?:'m|\s+am)\s+(?:strongly\s+)?(?:opposed|against)"
    r"\s+(?:to\s+)?(?:this|the)\b)",
    re.IGNORECASE,
)


def _continues(previous: _Block | None, block: _Block) -> bool:
    """A paragraph that goes on in lower case after an example ("... to do:" then code)."""
    if previous is None or not _ends_with_colon(previous) or block.items[0][0]:
        return False
    first = block.items[0][1][0][0] if block.items[0][1] else ""
    return first[:1].islower()


def _ends_with_colon(block: _Block) -> bool:
    last_lines = block.items[-1][1]
    return bool(last_lines) and last_lines[-1][0].rstrip().endswith(":")


def _is_intro(block: _Block, lines: list[tuple[str, str] | None]) -> bool:
    if not _ends_with_colon(block) and not (
        len(block.items) > 1 and block.items[0][1] and block.items[0][1][-1][0].endswith(":")
    ):
        return False
    following = next((pair for pair in lines[block.end + 1 :] if pair is not None), None)
    in_block = len(block.items) > 1 and any(label for label, _ in block.items[1:])
    return in_block or (following is not None and bool(_ITEM_LABEL.match(following[1])))


# --------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------


def _sentences(lines: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    """(sentence, masked sentence, starts a line) for one paragraph or list item."""
    out: list[tuple[str, str, bool]] = []
    segment: list[tuple[str, str]] = []
    for index, pair in enumerate(lines):
        if segment and _hard_break(lines[index - 1][0], pair[0]):
            out.extend(_split_segment(segment))
            segment = []
        segment.append(pair)
    if segment:
        out.extend(_split_segment(segment))
    return out


def _hard_break(previous: str, line: str) -> bool:
    """Whether a line ends its sentence: end punctuation, or a short line followed by one
    that starts like a new sentence (a lower-case start is the same sentence, wrapped)."""
    ended = previous.rstrip()
    if ended.endswith(("?", "!")) and line[:1].islower() and _in_quotation(ended[:-1], ended[-1]):
        return False  # 'had not just "tracked? ignored?' wrapped before 'unignored?"'
    if ended.endswith((".", "?", "!", ":", ";")):
        return True
    if len(previous.split()) <= 2:
        # "-1" or "Hmm" alone on a line is said on its own; "supported" between two
        # lines in lower case is a sentence wrapped twice (Outlook's re-wrap).
        return not (ended[:1].islower() and line[:1].islower())
    return len(previous) < HARD_BREAK_BELOW and not line[:1].islower()


def _split_segment(lines: list[tuple[str, str]]) -> list[tuple[str, str, bool]]:
    text = " ".join(line for line, _ in lines)
    masked = " ".join(m for _, m in lines)
    line_starts = {0}
    offset = 0
    for line, _ in lines[:-1]:
        offset += len(line) + 1
        line_starts.add(offset)
    # The masked text has the same length as the original: one set of cuts serves both.
    cuts = [0, *(m.end() for m in _BOUNDARY.finditer(masked) if _is_boundary(masked, m))]
    cuts.append(len(text))
    out: list[tuple[str, str, bool]] = []
    for start, end in pairwise(cuts):
        sentence = text[start:end].strip()
        if sentence and re.search(r"\w", sentence):
            out.append((sentence, masked[start:end].strip(), start in line_starts))
    return out


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    mark = match.group(0)
    following = text[match.end() : match.end() + 1]
    if "?" in mark or "!" in mark:
        # 'if we had not just "tracked? ignored? unignored?" but also ...': marks inside
        # a quotation that the sentence goes on after are the quotation's, not its end.
        return not (following.islower() and _in_quotation(text[: match.start()], mark))
    if not following or not (
        following.isupper() or following.isdigit() or following in "(\"'-+@*`["
    ):
        return False  # "... unless", "e.g. foo": an ellipsis or an abbreviation mid-sentence
    before = text[: match.start() + 1].split()
    return not before or before[-1].casefold() not in _ABBREVIATIONS


def _in_quotation(before: str, mark: str) -> bool:
    """Whether a mark is inside a quotation, or closes one ("... unignored?" but)."""
    opened = before.count('"') % 2 == 1 or before.count("\u201c") > before.count("\u201d")
    return opened or '"' in mark or "\u201d" in mark
