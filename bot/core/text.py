"""Splitting a message body into what the author wrote now and what they quoted.

Mail and forum posts both carry old text along with the new: ``>`` quotes,
"On <date>, <name> wrote:" attributions, Outlook's "Original Message" blocks,
signatures and list footers. Votes, commands and concerns must only ever be
read from the new text, so this split is the first thing every feature relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_ATTRIBUTION = re.compile(
    r"""^\s*(
        (On|Am|Le|El|Il|Op|Em|Den|På)\b.{0,200}\b(wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|
            schreef|escreveu|skrev)\s*:?\s*$
      | .{0,120}\b(wrote|writes|schrieb)\s*:\s*$
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Attribution forms that split_body keeps as new text: "Ann wrote on 2017-11-28 02:20:",
# Thunderbird's "Am 2017-12-21 um 23:31 schrieb Hervé BOUTEMY:", "Ann <ann@example.org>:",
# and the first half of an "On <date>, Ann <ann@example.org>" wrapped before "wrote:".
# See is_attribution.
_LOOSE_ATTRIBUTION = re.compile(
    r"\bwrote\b[^\n]*:\s*$"
    r"|\ba [ée]crit\s*:\s*$"
    r"|\bschrieb\b[^\n]*:\s*$"
    r"|\bescribi[óo]\b[^\n]*:\s*$"
    r"|<[^<>\s]+@[^<>\s]+>\s*:\s*$"
    r"|^\s*On\s[^\n]*<[^<>\s]+@[^<>\s]+>\s*$",
    re.IGNORECASE,
)
# An attribution that the sender's client wrapped over two lines.
_ATTRIBUTION_START = re.compile(r"^\s*(On|Am|Le)\s.{10,}$")
# "-----Original Message-----" as Outlook and phone clients write it, in their users'
# languages; Samsung's client runs the old headers on after it on the same line
# ("-------- Oorspronkelijk bericht --------Van: ..."). A forward is quoted the same way.
_OUTLOOK_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Oorspronkelijk"
    r" bericht|Mensaje original|Messaggio originale|Mensagem original|Opprinnelig melding"
    r"|Ursprungligt meddelande|Oprindelig meddelelse|Alkuperäinen viesti|Oryginalna wiadomość"
    r"|Původní zpráva|Исходное сообщение|原始邮件|原始郵件|元のメッセージ|Forwarded message"
    r"|Weitergeleitete Nachricht|Message transféré)\s*-{2,}.*|_{10,}\s*)$",
    re.IGNORECASE,
)
# Outlook's quoted header block in its users' languages: the sender's line, then within
# three lines the date's ("From:/Sent:", "Von:/Gesendet:", "От:/Отправлено:",
# "发件人:/发送时间:", "差出人:/送信日時:"); CJK clients write a full-width colon.
_FROM_WORDS = (
    "From", "Von", "De", "Da", "Van", "Från", "Fra", "Od", "Lähettäjä", "Kimden", "Feladó",
    "От", "Від", "发件人", "寄件者", "差出人", r"보낸\s*사람",
)  # fmt: skip
_OUTLOOK_HEADER = re.compile(
    rf"^\s*({'|'.join(_FROM_WORDS)})\s*[:：]\s*\S.*$",
    re.IGNORECASE,
)
_OUTLOOK_SENT = re.compile(
    r"^\s*(Sent|Date|Gesendet|Datum|Envoyé|Enviado(?:\s+el)?|Enviada\s+em|Data|Inviato|Verzonden"
    r"|Skickat|Sendt|Lähetetty|Wysłano|Odesláno|Gönderildi|Tarih|Elküldve|Отправлено|Дата"
    r"|Надіслано|发送时间|日期|寄件日期|傳送時間|送信日時|日付|보낸\s*날짜)\s*[:：]\s*\S.*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^-- ?$")
# A month's name, written out or cut short ("Sep", "Sept", "September"): dates in mail
# text, read by votes' deadlines and by what is not prose.
MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# ezmlm, Mailman and GitHub append these; none of it is the author's.
_FOOTER_START = re.compile(
    r"^\s*(To unsubscribe, e-mail:|To unsubscribe from this (group|list)|"
    r"You are receiving this because|Reply to this email directly|"
    r"This is an automated message from the Apache Git Service|"
    # A forum's mailing-list mode: "[Visit Topic](https://...) or reply to this email".
    r"\[?Visit Topic\]?\s*(\(|:|<|https?://|or reply))",
    re.IGNORECASE,
)
# A rule line is only a footer when list boilerplate follows it; build logs are full of them.
_RULE = re.compile(r"^\s*(-{20,}|_{20,}|-{3})\s*$")
_GITHUB_VIEW = re.compile(
    r"view it on GitHub:?\s*<?(https://github\.com/[^\s>]+)>?", re.IGNORECASE | re.DOTALL
)
_MENTION = re.compile(r"(?<![\w.@/+-])@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\b(?![.@]\w)")
_FENCE = re.compile(r"^\s*(```|~~~)")
MAX_MENTIONS = 100
_QUOTE_MARKER = re.compile(r"^\s*>\s?")
# A cheap screen for _split_lines, which reads most lines as plain new text only after
# trying every pattern above. A line can match one of them only if it starts like one
# (signature, rule, separator, footer, Outlook header, attribution) ...
_MARKER_START = re.compile(
    r"\s*(-|_|To unsubscribe|You are receiving|Reply to this email|This is an automated"
    rf"|\[?Visit Topic|(?:{'|'.join(w for w in _FROM_WORDS if w.isascii() and w.isalpha())})\s*:"
    r"|(On|Am|Le|El|Il|Op|Em|Den|På)\b)",
    re.IGNORECASE,
)
# ... or, for _ATTRIBUTION, if it ends in one of its verbs (and maybe a colon). These
# are its ASCII verbs; the screen only passes ASCII lines, because under IGNORECASE
# "ı" matches "i" and "ſ" matches "s", which str.lower() does not know.
_ATTRIBUTION_VERBS = ("wrote", "writes", "schrieb", "scritto", "schreef", "escreveu", "skrev")
_LONGEST_VERB = max(map(len, _ATTRIBUTION_VERBS))
# See caseless(): "ı", "İ", "ſ" and the Kelvin sign, and the letter each is taken for.
_OTHER_CASES = (("\u0131", b"i"), ("\u0130", b"i"), ("\u017f", b"s"), ("\u212a", b"k"))
# The characters an (ASCII) line that _MARKER_START matches starts with, after its
# blanks: the first of each alternative, in either case.
_MARKER_FIRST = frozenset("-_[TtYyRrVvFfDdOoAaLlEeIiPpKk")


@dataclass(frozen=True, slots=True)
class SplitText:
    """The author's new words, the quoted blocks, and the link GitHub put in its footer.

    ``quote_at`` says where each quoted block sat: how many non-blank lines of ``new``
    came before it. An inline reply answers each quote in the lines right under it.
    """

    new: str
    quoted: tuple[str, ...]
    github_url: str | None
    quote_at: tuple[int, ...] = ()


def split_body(body: str) -> SplitText:
    """Separate new text from quotes, attributions, signatures and list footers."""
    github = _GITHUB_VIEW.search(body, _github_view_start(body))
    new, quoted, at = _split_lines(quote_tags_as_markers(body).splitlines())
    blocks = ("\n".join(block).strip() for block in quoted)
    kept = [(q, where) for q, where in zip(blocks, at, strict=True) if q]
    return SplitText(
        new=_tidy("\n".join(new)),
        quoted=tuple(q for q, _ in kept),
        github_url=github.group(1).rstrip(".,)") if github else None,
        quote_at=tuple(where for _, where in kept),
    )


def new_lines(text: str) -> list[str]:
    """The lines :func:`split_body` keeps as new text, exactly as written.

    For readers that work line by line (votes, for one) and must not re-implement
    the quote, attribution, signature, footer and Outlook rules. Unlike
    ``split_body(text).new`` nothing is tidied: indentation and blank lines stay,
    so code blocks and paragraphs can still be told apart. On text that is
    already new text (``Post.text``) it changes nothing but the rare line a
    second pass would still recognise, so it is a cheap guard against raw input.
    """
    return _split_lines(quote_tags_as_markers(text).splitlines())[0]


_QUOTE_TAG = re.compile(r"\[quote(?:=[^\]\n]*)?\]|\[/quote\]", re.IGNORECASE)


# Supercite's quotes, as Emacs mail readers write them: the quoted writer's initials
# before the ">" ("GL> The catch is ..."). Capitals only: "foo>" is code or a prompt.
_SUPERCITE = re.compile(r"^([ \t]*)[A-Z]{2,3}>(?=[ \t>]|$)", re.MULTILINE)


def quote_tags_as_markers(text: str) -> str:
    """BBCode ``[quote="alice, post:3, topic:95"]...[/quote]`` blocks as ``>`` quotes,
    and supercite's "GL> " as "> ".

    Discourse's quote button writes them, and its mails (mailing-list mode, a list
    mirrored from a forum) carry the post's raw text, so mail has them too.
    """
    if _SUPERCITE.search(text) is not None:
        text = _SUPERCITE.sub(r"\g<1>>", text)
    if "[quote" not in text and "[QUOTE" not in text:
        return text
    out: list[str] = []
    depth = 0
    position = 0
    for tag in _QUOTE_TAG.finditer(text):
        out.append(_prefix_lines(text[position : tag.start()], depth))
        depth = max(0, depth - 1) if tag.group(0).startswith("[/") else depth + 1
        out.append("\n")  # a quote tag always ends the line it is on
        position = tag.end()
    out.append(_prefix_lines(text[position:], depth))
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip("\n")


def _prefix_lines(chunk: str, depth: int) -> str:
    if depth == 0 or not chunk:
        return chunk
    marker = "> " * depth
    return "\n".join(marker + line if line.strip() else line for line in chunk.split("\n"))


def is_attribution(line: str) -> bool:
    """Whether a line introduces quoted text, in split_body's forms or looser ones.

    ``split_body`` cuts only the attributions it is sure of, so a few looser
    forms reach ``Post.text`` (see ``_LOOSE_ATTRIBUTION``). A reader that must
    never take them for the author's words, such as a ballot's stated reason,
    drops the lines this accepts.
    """
    return bool(_ATTRIBUTION.match(line) or _LOOSE_ATTRIBUTION.search(line))


def _split_lines(lines: list[str]) -> tuple[list[str], list[list[str]], list[int]]:
    """The new lines, the quoted blocks with their ``>`` markers removed, and for each
    block how many non-blank new lines came before it."""
    new: list[str] = []
    quoted: list[list[str]] = []
    at: list[int] = []
    written = 0  # non-blank lines in new
    index = 0
    count = len(lines)
    while index < count:
        line = lines[index]
        # Quoted lines come first because they are the most common, and safely so:
        # no signature, footer or Outlook form below starts with ">". A run of them
        # is one block, read in a loop of its own: most of a reply is quotes.
        unindented = line.lstrip()
        if unindented.startswith(">"):
            block: list[str] = []
            quoted.append(block)
            at.append(written)
            if new and new[-1].strip():
                # What answers one quote and what answers the next are apart, as the
                # writer put them, even with no blank line around the quote.
                new.append("")
            unmarked = False
            while True:
                # _strip_quote(line), knowing where the ">" is.
                marked = unindented[2:] if unindented[1:2].isspace() else unindented[1:]
                block.append(lines[index] if unmarked else marked)
                index += 1
                if index == count:
                    break
                unindented = lines[index].lstrip()
                # GitHub's review mail marks only a hunk's first line with ">".
                unmarked = not unindented.startswith(">") and _hunk_goes_on(block, lines[index])
                if not (unindented.startswith(">") or unmarked):
                    if not _spilled_quote(lines, index):
                        break
                    # The tail of the quoted line above, wrapped onto a line of its own.
                    block[-1] = f"{block[-1].rstrip()} {unindented.strip()}"
                    index += 1
                    if index == count:
                        break
                    unindented = lines[index].lstrip()
            continue
        index += 1
        if not unindented:
            # A blank line (a third of what is not quoted): no rule below takes one.
            new.append(line)
            continue
        if _is_plain_new_text(line, unindented):
            new.append(line)
            written += 1
            continue
        index -= 1
        if _SIGNATURE.match(line) or _is_footer(lines, index):
            break
        if _is_outlook_separator(lines, index) or _is_outlook_header_block(lines, index):
            quoted.append([_strip_quote(rest) for rest in lines[index:]])
            at.append(written)
            break
        if _ATTRIBUTION.match(line) or _is_wrapped_attribution(lines, index):
            if _is_wrapped_attribution(lines, index):
                index += 1
            if _unmarked_quote_follows(lines, index + 1, new):
                # "On Friday, ... Michael wrote:" over the old mail with no ">" (Yahoo's and
                # some webmails' top-posting): the rest is the message being answered.
                quoted.append([_strip_quote(rest) for rest in lines[index + 1 :]])
                at.append(written)
                break
        else:
            new.append(line)
            written += bool(unindented)
        index += 1
    return new, quoted, at


def _is_outlook_separator(lines: list[str], index: int) -> bool:
    """ "-----Original Message-----" and its kin; a bare line of underscores only with the
    old mail's "From:" right under it (GitHub's review mail puts one between the line
    comments of one review: "____" then "In README.md<https://...>:")."""
    match = _OUTLOOK_SEPARATOR.match(lines[index])
    if match is None:
        return False
    if not lines[index].strip().startswith("_"):
        return True
    following = [line for line in lines[index + 1 : index + 4] if line.strip()]
    return bool(following) and _OLD_MAIL_FROM.match(following[0]) is not None


# The first header Outlook writes under its line of underscores, in its users' languages
# ("From: ...", "Von: ...", "De : ...", "发件人: ...").
_OLD_MAIL_FROM = re.compile(rf"^\s*(?:{'|'.join(_FROM_WORDS)})\s*[:：]", re.IGNORECASE)


# Outlook re-wraps the quote it sends at 76 columns after adding its ">": the tail
# of a long quoted line lands on a line of its own, without the marker, between
# two quoted lines (">I am the maintainer ... (few past years" / "in" / ">MacPorts").
_WRAP_COLUMNS = 76
_SPILL_WORDS = 3
_STANDALONE = re.compile(r"^(?:[+-]\d|[A-Z][^.?!]*[.?!]$)")


# A line of a patch: added, removed, unchanged (one space in), or a hunk's header.
_DIFF_LINE = re.compile(r"^(?:[+-](?![+-]{2}\s)|@@ | \S|  )")


def _hunk_goes_on(block: list[str], line: str) -> bool:
    """Whether an unmarked line goes on with the quoted hunk of a patch above it: the
    block so far is lines of a patch, and so is this one (GitHub's review mail quotes a
    hunk with ">" on its first line only: "> +    async def run(self):" then
    "+        for func in self._deferred:")."""
    return (
        bool(line.strip())
        and _DIFF_LINE.match(line) is not None
        and block[0].startswith(("+", "-", "@@ "))
        and _DIFF_LINE.match(block[0]) is not None
        and _DIFF_LINE.match(block[-1]) is not None
    )


def _spilled_quote(lines: list[str], index: int) -> bool:
    """Whether lines[index], unquoted, is the wrapped-off tail of the quoted line
    before it: a few words, the quote going on right after, and the two together
    longer than the wrap. A reply written between quotes ("+1", "Agreed.") is
    not: it stands as a sentence, or the quoted line above it had ended."""
    if index + 1 >= len(lines) or not lines[index + 1].lstrip().startswith(">"):
        return False
    spill = lines[index].strip()
    previous = lines[index - 1].rstrip()
    return (
        0 < len(spill.split()) <= _SPILL_WORDS
        and len(previous) + 1 + len(spill) > _WRAP_COLUMNS
        and previous[-1] not in ".?!:"
        and not _STANDALONE.match(spill)
    )


def _unmarked_quote_follows(lines: list[str], start: int, new: list[str]) -> bool:
    """After an attribution, the old message without ">" markers: the writer has said
    something already (top-posting), and the next line with text is not quoted."""
    if not any(line.strip() for line in new):
        return False
    following = next((line for line in lines[start:] if line.strip()), None)
    return following is not None and not following.lstrip().startswith(">")


def _is_footer(lines: list[str], index: int) -> bool:
    if _FOOTER_START.match(lines[index]):
        return True
    if not _RULE.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 4] if line.strip()]
    return bool(following) and bool(
        _FOOTER_START.match(following[0]) or _MAILMAN_FOOTER.match(following[0])
    )


# Mailman's footer under its rule: "devel mailing list" (then the address and the
# listinfo link), or Mailman 3's "devel mailing list -- devel@lists.example.org".
_MAILMAN_FOOTER = re.compile(
    r"^\s*[\w.+-]+\s+mailing\s+list(?:\s+--\s+\S+@\S+)?\s*$", re.IGNORECASE
)


def _strip_quote(line: str) -> str:
    return _QUOTE_MARKER.sub("", line)


def _is_plain_new_text(line: str, unindented: str) -> bool:
    """True only for a line that no rule of _split_lines but "new text" applies to.

    Not a quote (checked before), and by the screen above no signature, footer,
    rule, separator, Outlook header or attribution either. ``unindented`` is
    ``line.lstrip()``, where ``_MARKER_START`` would match after its leading blanks: only
    a line starting with one of ``_MARKER_FIRST`` is given to the pattern.
    """
    if not line.isascii():
        return False
    if unindented[:1] in _MARKER_FIRST and _MARKER_START.match(line):
        return False
    tail = unindented.rstrip()
    if tail.endswith(":"):
        tail = tail[:-1].rstrip()
    # Only the end can hold a verb: no need to lower the whole line.
    return not tail[-_LONGEST_VERB:].lower().endswith(_ATTRIBUTION_VERBS)


def _github_view_start(body: str) -> int:
    """Where a _GITHUB_VIEW match can start at the earliest (past the end: nowhere).

    Searching from there skips the slow case-insensitive scan of most bodies. In
    a body that is not ASCII (half of list mail: a name, a non-breaking space)
    positions may shift in :func:`caseless`, so only whether there can be one.
    """
    if body.isascii():
        start = body.lower().find("view it on github")
        return len(body) if start < 0 else start
    return 0 if b"view it on github" in caseless(body) else len(body)


def caseless(text: str) -> bytes:
    """``text`` as UTF-8 with what an IGNORECASE pattern takes for an ASCII letter made
    that letter in lower case: ``needle in caseless(text)`` whenever such a pattern of
    ``needle`` (lower-case ASCII) matches in ``text``. A cheap screen for a pattern
    whose scan of a long text is slow.

    Bytes, because ``bytes.lower()`` is several times cheaper than ``str.lower()`` on
    text that is not ASCII. It lowers only ASCII letters, and the only other
    characters Python's patterns take for ASCII letters are "ı" and "İ" for "i",
    "ſ" for "s" (``re._casefix``) and the Kelvin sign for "k": those are replaced.
    Positions are not those of ``text`` unless it is ASCII.
    """
    lowered = text.encode("utf-8", "surrogatepass").lower()
    if not text.isascii():
        for char, letter in _OTHER_CASES:
            # Asked of the str: in text of Latin-1 characters only (most of it) a
            # character above them is known absent without a scan.
            if char in text:
                lowered = lowered.replace(char.encode(), letter)
    return lowered


def _is_wrapped_attribution(lines: list[str], index: int) -> bool:
    if index + 1 >= len(lines) or not _ATTRIBUTION_START.match(lines[index]):
        return False
    joined = f"{lines[index].rstrip()} {lines[index + 1].strip()}"
    return bool(_ATTRIBUTION.match(joined))


def _is_outlook_header_block(lines: list[str], index: int) -> bool:
    """Outlook quotes as a "From: / Sent:" header block followed by the old message."""
    if not _OUTLOOK_HEADER.match(lines[index]):
        return False
    following = lines[index + 1 : index + 4]
    return any(_OUTLOOK_SENT.match(line) for line in following)


def _tidy(text: str) -> str:
    """Blanks at line ends dropped, runs of blank lines cut to one, ends stripped.

    Without regular expressions: ``[ \t]+\n`` and ``\n{3,}`` are tried at every
    position of the text, which cost an import 10 µs a message; the string
    methods below give the same text in under half of that.
    """
    # The substring tests skip work that would change nothing (most text).
    if " \n" in text or "\t\n" in text:
        # The last line loses its blanks too (the pattern keeps them): strip() below
        # drops them either way.
        text = "\n".join([line.rstrip(" \t") for line in text.split("\n")])
    while "\n\n\n" in text:
        # Each pass shortens every run of three or more line breaks; two stay.
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def extract_mentions(text: str) -> tuple[str, ...]:
    """``@login`` mentions outside code fences, in order, without repeats: the first
    MAX_MENTIONS of them (a mail that names thousands addresses nobody in particular)."""
    found: dict[str, None] = {}
    in_fence = False
    if "@" not in text:
        return ()
    # A fence line holds ``` or ~~~; without either, no line of the text is one.
    fenced = "```" in text or "~~~" in text
    for line in text.splitlines():
        if fenced and _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or "@" not in line:
            continue
        for login in _MENTION.findall(line):
            found[login] = None
            if len(found) == MAX_MENTIONS:
                return tuple(found)
    return tuple(found)


class _HtmlText(HTMLParser):
    """HTML to readable plain text; blockquotes become ``>`` quotes so they split like mail."""

    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "hr"}
    )
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skip_depth += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.parts.append("\n")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.quote_depth:
            # Prefix only where a line starts: inline tags split a line into fragments.
            prefix = "> " * self.quote_depth
            chunks = data.split("\n")
            starts_line = not self.parts or self.parts[-1].endswith("\n")
            data = "\n".join(
                prefix + chunk if chunk.strip() and (index or starts_line) else chunk
                for index, chunk in enumerate(chunks)
            )
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text from an HTML body (HTML-only mail, Discourse ``cooked``)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return _tidy("\n".join(lines))


# --------------------------------------------------------------------------
# Code is not prose
# --------------------------------------------------------------------------

_CODE_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_INDENTED = re.compile(r"^( {4}|\t)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")


def mask_inline_code(line: str) -> str:
    """Blank out `inline code` but keep the length, so offsets still line up."""
    return _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)


def code_lines(lines: list[str]) -> frozenset[int]:
    """Indexes of lines inside fenced or indented code blocks.

    Indented code follows Markdown: it must start after a blank line, so a
    wrapped, indented continuation line in a mail is still prose.
    """
    found: set[int] = set()
    fence: str | None = None
    previous_blank = True
    previous_code = False
    for index, line in enumerate(lines):
        opener = _CODE_FENCE.match(line)
        if fence is not None:
            found.add(index)
            if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence):
                fence = None
            previous_code, previous_blank = True, False
            continue
        if opener:
            fence = opener.group(1)
            found.add(index)
            previous_code, previous_blank = True, False
            continue
        if line.strip() and _INDENTED.match(line) and (previous_blank or previous_code):
            found.add(index)
            previous_code, previous_blank = True, False
            continue
        previous_blank = not line.strip()
        previous_code = False
    return frozenset(found)


def prose_lines(text: str) -> list[str]:
    """``text.splitlines()`` with code blocks blanked and inline code masked, line for line."""
    lines = text.splitlines()
    code = code_lines(lines)
    return ["" if index in code else mask_inline_code(line) for index, line in enumerate(lines)]


def prose(text: str) -> str:
    """The text with code blocks blanked out and inline code masked."""
    return "\n".join(prose_lines(text))
