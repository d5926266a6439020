"""Which lines of a post are a person's prose, as far as ballots are concerned.

Quotes, attributions, signatures, Outlook blocks and list footers are the mail
normaliser's business (:func:`bot.core.text.new_lines`, the same cut that makes
``Post.text``); this module only adds what matters to votes: a ``+1`` inside a
code block, a diff, a build log or a line of code is not a ballot.
"""

from __future__ import annotations

import re

from bot.core.text import is_attribution, new_lines

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


def prose_lines(text: str) -> list[str]:
    """The lines a person wrote as prose; blank lines are kept as paragraph breaks.

    ``Post.text`` is already new text, but parsers are also handed raw bodies
    (tests, a RESULT mail quoting the call), so the mail cut is applied again:
    on new text it is a no-op, and it costs one pass over the lines.
    """
    kept: list[str] = []
    in_fence = in_diff = False
    for line in new_lines(text):
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
        # Inline code is set aside first: "tested with `Config.load()`, +1" is prose
        # with a bit of code in it, not a line of code.
        bare = _INLINE_CODE_RE.sub(" ", line)
        if is_attribution(line) or not bare.strip() or _is_machine_line(bare):
            continue
        kept.append(bare.strip())
    return kept


def _is_machine_line(line: str) -> bool:
    """Code, a build log or a stack trace: where "+1" is a number, not a ballot."""
    return bool(_INDENTED_CODE_RE.match(line) or _LOG_RE.search(line) or _CODE_RE.search(line))


# "I'd rather not break them, so I'm withdrawing this vote", "I'd be glad to have him, so
# a very happy +1 from me": what comes before ", so" is the reason, not a condition on
# what follows. ("If it is fixed, so to speak, +1" keeps its condition.)
_CONSEQUENCE_RE = re.compile(
    r"[,;]\s*(?:and\s+)?(?:so|therefore|hence|thus|which\s+is\s+why)\b"
    r"(?!\s+(?:to\s+speak|far|long|much|that)\b)",
    re.IGNORECASE,
)


def own_clause(before: str) -> str:
    """The words before a statement or a value in its own clause: after the last
    ", so", ", therefore", ", which is why"."""
    cuts = [m.end() for m in _CONSEQUENCE_RE.finditer(before)]
    return before[cuts[-1] :] if cuts else before
