"""Text from mail made safe to print on a terminal.

A subject or a name is whatever a sender wrote: ``ESC [ 2 J`` clears the screen,
``ESC ] 8`` makes a hidden link, ``ESC ] 52`` writes the clipboard on some
terminals, a NUL or a carriage return hides what came before, and the bidi
overrides (U+202E ...) show text in another order than it is. Every CLI table and
plain-text output goes through :func:`safe_text`, which shows each such character
as an escape (``\\x1b``, ``\\u202e``) instead of letting the terminal act on it.
Line breaks and tabs are kept. JSON output escapes the same characters as JSON
escapes (:func:`safe_json`), so it stays valid JSON with the same values.
"""

from __future__ import annotations

import re

# C0 controls but tab and line feed, DEL, C1 controls (0x9b is a one-byte CSI), the
# bidi embeddings, overrides, isolates and marks, and the Unicode line separators.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    """``text`` with every character a terminal would act on shown as an escape."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(_shown, text)


def safe_json(text: str) -> str:
    """JSON text with those characters as ``\\uXXXX`` escapes (they occur only in strings)."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def _shown(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
