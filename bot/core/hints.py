"""Identity hints from mail: a GitHub login seen next to a real name.

Two places pair them. A [RESULT] mail that lists voters as ``Tianqi Chen (tqchen)``
names the person behind a login that voted in the thread; and a mail GitHub
mirrors carries the author's profile name in ``From`` and the login in
``X-GitHub-Sender``. Either is only a hint (anyone can write a RESULT, and
anyone can call their GitHub profile anything): it is shown as unconfirmed until
a person accepts it (``quorum people accept``). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# A list line "- Tianqi Chen (tqchen) (binding)": a name of two to four words, then the login.
_NAME_AND_LOGIN = re.compile(
    r"^[ \t]*(?:[-*+•]|\d+[.)])?[ \t]*"
    r"(?P<name>[^\W\d_][\w.'’-]*(?:[ \t]+[^\W\d_][\w.'’-]*){1,3})"
    r"[ \t]*\(@?(?P<login>[A-Za-z0-9][A-Za-z0-9-]{0,38})\)",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Hint:
    """``name`` is probably the person behind GitHub ``login``; ``evidence`` is a post key."""

    name: str
    login: str
    evidence: str


def hints_in_result(text: str, post_key: str, logins: Collection[str]) -> list[Hint]:
    """``Name (login)`` pairs in a RESULT mail, for logins known to have posted."""
    known = {login.casefold(): login for login in logins}
    found: dict[str, Hint] = {}
    for match in _NAME_AND_LOGIN.finditer(text):
        login = known.get(match["login"].casefold())
        name = _name(match["name"])
        if login is not None and _looks_like_a_name(name):
            found.setdefault(login, Hint(name, login, post_key))
    return list(found.values())


def hint_from_mirror(display_name: str, sender_login: str, post_key: str) -> Hint | None:
    """A mirror mail's From name and X-GitHub-Sender, when the name is a full name."""
    name = _name(display_name)
    if not sender_login or not name or " " not in name:
        return None
    if name.casefold() == sender_login.casefold():
        return None
    return Hint(name, sender_login, post_key)


def _looks_like_a_name(name: str) -> bool:
    words = name.split()
    return words[0][0].isupper() and words[-1][0].isupper()


def _name(text: str) -> str:
    return " ".join(text.split())
