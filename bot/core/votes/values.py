"""What a ballot value means: how it is read, how it is written, which side it counts for.

ASF votes use more than +1 and -1: ``+0`` and ``-0`` are different opinions,
and fractions (``+0.5``) are opinions too. The grammar, the tally and the
RESULT reader all go through these functions, so those rules live in one place.
"""

from __future__ import annotations

import math

# Numbers as vote calls and RESULT mails write them: "three days", "one -1 (Carol)".
_NUMBER_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
NUMBER_WORDS = {word: number for number, word in enumerate(_NUMBER_NAMES)} | {
    "ten": 10,
    "fourteen": 14,
    "seventy-two": 72,
    "seventy two": 72,
}


def number_of(word: str) -> int:
    """``"3"`` or ``"three"``."""
    folded = word.casefold()
    return NUMBER_WORDS[folded] if folded in NUMBER_WORDS else int(word)


# Mail clients and word processors turn "-" into a typographic minus or an en dash.
_MINUS_SIGNS = ("-", "−", "–")
_SIGNS = "+" + "".join(_MINUS_SIGNS)


def value_of(sign: str | None, num: str) -> float:
    """The value of a matched sign and number (``"-"``, ``".5"`` is -0.5)."""
    magnitude = float("0" + num if num.startswith(".") else num)
    return -magnitude if sign in _MINUS_SIGNS else magnitude


def signed_value(text: str) -> float:
    """The value of ``+1``, ``−0``, ``0.5`` written as one token."""
    sign = text[0] if text[0] in _SIGNS else None
    return value_of(sign, text.lstrip(_SIGNS))


def format_value(value: float) -> str:
    """``+1``, ``-1``, ``+0``, ``-0``, ``+0.5``: the sign of zero matters in ASF votes."""
    sign = "-" if math.copysign(1.0, value) < 0 else "+"
    return f"{sign}{abs(value):g}"


def bucket_of(value: float) -> int:
    """1 (for), -1 (against) or 0: only whole +1/-1 count; fractions are opinions, like 0."""
    if value >= 1:
        return 1
    if value <= -1:
        return -1
    return 0


def worded_value(word: str) -> float:
    """The value a ballot or a RESULT line says in words: +1 for "yes", "aye", "yea" or
    "in favour" or "approve", -1 for "no", "nay", "against", "disapprove" or "reject", 0 for
    "abstain" (and its forms)."""
    folded = word.casefold()
    if folded.startswith(("disapprove", "reject")):
        return -1.0
    if folded.startswith(("in", "yes", "aye", "yea", "approve")):
        return 1.0
    return -1.0 if folded.startswith(("against", "no", "nay")) else 0.0
