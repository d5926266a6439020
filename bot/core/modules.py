"""The module registry: what each module is, who maintains it, and which posts are about it.

A post is about a module when any of the module's match rules hits:

* ``keywords`` in the subject or new text, as whole words, case-insensitive;
* ``tags``: a ``[module]`` bracket tag anywhere in the subject;
* ``paths``: glob-ish patterns (``contrib/objstore/**``) against paths the post
  mentions, in prose or in code (stack traces and diffs are where paths live);
* ``categories``: Discourse categories or tags, GitHub labels, whatever metadata
  the source gives; the caller passes it in, since a Post does not carry it yet.

Maintainers are people as the config names them. :class:`~bot.core.people.People`
decides whether an author or an ``@mention`` is one of them: one person has
many names (addresses, display names, GitHub logins, Slack ids), and names are
compared without case or accents ("Hervé BOUTEMY" is "herve boutemy").

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from bot.core.people import People, name_key
from bot.model import Person, Post

_TAG = re.compile(r"\[([^\[\]]{1,60})\]")
# A path is two or more components joined by "/", optionally with a file extension.
_PATH = re.compile(r"(?<![\w.-])((?:[\w.-]+/)+[\w.*-]+/?)")
_GLOB_CHARS = frozenset("*?[")


class ModuleState(StrEnum):
    """How mature a module is; it sets how quickly its maintainers are expected to answer."""

    S0 = "S0"
    S1 = "S1"
    S2 = "S2"
    DEPRECATED = "deprecated"

    @property
    def explanation(self) -> str:
        """One line a user can read in a digest or on the dashboard."""
        return _EXPLANATIONS[self]


_EXPLANATIONS: dict[ModuleState, str] = {
    ModuleState.S0: "new, isolated in its own namespace, and can be turned off",
    ModuleState.S1: "integrated into existing flows",
    ModuleState.S2: "replacing or evolving existing solutions",
    ModuleState.DEPRECATED: "on its way out: kept working, not developed further",
}


@dataclass(frozen=True, slots=True)
class Module:
    """One module: its state, its maintainers (person names), and its match rules."""

    name: str
    state: ModuleState
    maintainers: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def is_maintained_by(self, person: str) -> bool:
        key = name_key(person)
        return any(name_key(m) == key for m in self.maintainers)


# --------------------------------------------------------------------------
# Matching posts to modules
# --------------------------------------------------------------------------


def match_modules(
    post: Post, modules: Iterable[Module], categories: Sequence[str] = ()
) -> tuple[Module, ...]:
    """The modules ``post`` is about, in registry order."""
    read = _ReadPost(post)
    return tuple(module for module in modules if read.matches(module, categories))


def matches(post: Post, module: Module, categories: Sequence[str] = ()) -> bool:
    """Whether any of the module's match rules hits the post."""
    return _ReadPost(post).matches(module, categories)


class _ReadPost:
    """One post as the match rules read it: its paths found once, not once per module."""

    def __init__(self, post: Post) -> None:
        self.post = post
        self._words = f"{post.subject}\n{post.text}"
        self._paths: tuple[str, ...] | None = None

    def matches(self, module: Module, categories: Sequence[str]) -> bool:
        return (
            matches_tag(self.post.subject, module.tags)
            or matches_keyword(self._words, module.keywords)
            or (bool(module.paths) and self._matches_path(module.paths))
            or matches_category(categories, module.categories)
        )

    def _matches_path(self, patterns: Sequence[str]) -> bool:
        if self._paths is None:
            self._paths = mentioned_paths(self.post.text)
        return any(path_matches(p, path) for p in patterns for path in self._paths)


def matches_keyword(text: str, keywords: Sequence[str]) -> bool:
    """Any keyword as a whole word or phrase, ignoring case ("objstore", not "objstores")."""
    pattern = _keyword_pattern(tuple(keywords))
    return pattern is not None and pattern.search(text) is not None


@lru_cache(maxsize=256)
def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    # Lookarounds instead of \b, so keywords that end in punctuation ("C++") still work.
    # A hyphen separates words: CI jobs and repositories are "objstore-nightly", "maven-objstore".
    words = [re.escape(k.strip()) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)", re.IGNORECASE)


def matches_tag(subject: str, tags: Sequence[str]) -> bool:
    """A ``[tag]`` anywhere in the subject, compared like names ("[ObjStore]" is "[objstore]")."""
    if not tags:
        return False
    wanted = {name_key(tag.strip("[]")) for tag in tags}
    return any(name_key(found) in wanted for found in _TAG.findall(subject))


def matches_category(categories: Sequence[str], wanted: Sequence[str]) -> bool:
    keys = {name_key(c) for c in wanted}
    return any(name_key(c) in keys for c in categories)


def mentioned_paths(text: str) -> tuple[str, ...]:
    """Path-like tokens in the text, without a leading ``./`` or diff ``a/``/``b/`` prefix."""
    found: list[str] = []
    for token in _PATH.findall(text):
        path = token.rstrip(".,;:)")
        for prefix in ("./", "a/", "b/"):
            path = path.removeprefix(prefix)
        if path and path not in found:
            found.append(path)
    return tuple(found)


def matches_path(text: str, patterns: Sequence[str]) -> bool:
    if not patterns:
        return False
    paths = mentioned_paths(text)
    return any(path_matches(pattern, path) for pattern in patterns for path in paths)


def path_matches(pattern: str, path: str) -> bool:
    """Glob-ish: ``**`` spans directories, ``*`` and ``?`` do not; a plain pattern is a prefix.

    The pattern may match the whole path or any tail of it that starts at a
    component, since mentioned paths often carry a repository or URL prefix
    (``https://github.com/o/r/blob/main/contrib/objstore/x.py``).
    """
    regex = _path_regex(pattern.strip().strip("/"))
    parts = path.strip("/").split("/")
    return any(regex.fullmatch("/".join(parts[start:])) for start in range(len(parts)))


@lru_cache(maxsize=256)
def _path_regex(pattern: str) -> re.Pattern[str]:
    if not _GLOB_CHARS & set(pattern):
        # "contrib/objstore" means the directory and everything under it.
        return re.compile(re.escape(pattern) + r"(?:/.*)?")
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append(r"(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(r".*")
            index += 2
            continue
        out.append({"*": r"[^/]*", "?": r"[^/]"}.get(char, re.escape(char)))
        index += 1
    return re.compile("".join(out))


# --------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------


def maintainer_of(author: Person | Post, module: Module, identities: People) -> str | None:
    """The maintainer of ``module`` the author (of a post) is, or None.

    Given the post, a sender the directory cannot verify (a borrowed display
    name, a hand-made GitHub mirror mail) is nobody's maintainer.
    """
    if isinstance(author, Post):
        if not identities.author_of(author).verified:
            return None
        author = author.author
    return next((m for m in module.maintainers if identities.is_person(author, m)), None)
