"""Bot commands: the grammar, who may run them, and the replies a bad command earns.

A command is a line of a post's *new* text that starts with the bot's handle::

    @quorum concern NAME: text       raise a named concern
    @quorum resolve NAME             mark it resolved (its author or a maintainer)
    @quorum withdraw NAME            withdraw it (its author only)
    @quorum hold [reason]            ask to hold the decision (maintainers)
    @quorum unhold                   lift a hold (maintainers)
    @quorum help                     the bot replies with this list

Quoted text never counts (``Post.text`` already excludes it), and neither does
code: fenced blocks, indented blocks and inline `code` are how people *show*
a command without running it. A line that tries to be a command and fails is
never dropped silently: it becomes a :class:`CommandError` with a reason a
person can act on, and the caller turns it into a reply.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.core.people import People, is_maintainer, is_same_person
from bot.core.text import prose_lines
from bot.model import Action, Person, Post

DEFAULT_HANDLE = "quorum"
# One message may hold this many commands; the rest are not read (bounded work).
MAX_COMMANDS_PER_POST = 20
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,47}"
_NAME = re.compile(rf"^{NAME_PATTERN}$")
# Up to three spaces of indentation: four would make the line a code block.
_COMMAND_LINE = re.compile(r"^\s{0,3}@(?P<handle>[A-Za-z0-9][A-Za-z0-9_-]*)(?![.@\w])(?P<rest>.*)$")
_VERB = re.compile(r"^[\s,:]*(?P<verb>[A-Za-z][\w-]*)(?P<args>.*)$", re.DOTALL)


class Verb(StrEnum):
    CONCERN = "concern"
    RESOLVE = "resolve"
    WITHDRAW = "withdraw"
    HOLD = "hold"
    UNHOLD = "unhold"
    HELP = "help"


USAGE: dict[Verb, str] = {
    Verb.CONCERN: "concern NAME: text",
    Verb.RESOLVE: "resolve NAME",
    Verb.WITHDRAW: "withdraw NAME",
    Verb.HOLD: "hold [reason]",
    Verb.UNHOLD: "unhold",
    Verb.HELP: "help",
}


@dataclass(frozen=True, slots=True)
class Command:
    """A well-formed command, with where it was written and by whom.

    ``name`` is the concern's id (lower-cased NAME) for concern/resolve/withdraw.
    ``text`` is the concern's text, or the free note after resolve/withdraw/hold.
    """

    verb: Verb
    name: str | None
    text: str
    post: str
    actor: Person
    at: datetime
    line: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "verb": self.verb.value,
            "name": self.name,
            "text": self.text,
            "post": self.post,
            "actor": self.actor.display,
            "at": self.at.isoformat(),
            "line": self.line,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class CommandError:
    """A line addressed to the bot that is not a valid command, and why."""

    reason: str
    post: str
    actor: Person
    at: datetime
    line: int
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "post": self.post,
            "actor": self.actor.display,
            "at": self.at.isoformat(),
            "line": self.line,
            "source": self.source,
        }


ParsedCommand = Command | CommandError
_ErrorFactory = Callable[[str], CommandError]
_CommandFactory = Callable[[Verb, str | None, str], Command]


@dataclass(frozen=True, slots=True)
class Authorization:
    allowed: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "reason": self.reason}


class RaisedConcern(Protocol):
    """What authorization needs to know about a concern."""

    @property
    def id(self) -> str: ...

    @property
    def raised_by(self) -> Person: ...


# --------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------


def normalise_handle(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


def is_command_line(line: str, handle: str = DEFAULT_HANDLE) -> bool:
    """Whether a (code-masked) line is addressed to the bot as a command."""
    match = _COMMAND_LINE.match(line)
    return match is not None and match["handle"].casefold() == normalise_handle(handle)


def parse_commands(post: Post, handle: str = DEFAULT_HANDLE) -> tuple[ParsedCommand, ...]:
    """Every command line in the post's new text, in order, as commands or errors.

    At most MAX_COMMANDS_PER_POST are read; a line past them is one error that says so,
    so a mail of thousands of commands costs what a few do.
    """
    original = post.text.splitlines()
    masked = prose_lines(post.text)
    found: list[ParsedCommand] = []
    for index, line in enumerate(masked):
        if not is_command_line(line, handle):
            continue
        source = original[index].strip()
        if len(found) == MAX_COMMANDS_PER_POST:
            reason = f"only the first {MAX_COMMANDS_PER_POST} commands of a message are read"
            found.append(
                CommandError(reason, post.key, post.author, post.created_at, index + 1, source)
            )
            break
        rest = _COMMAND_LINE.match(original[index])
        if rest is None:  # cannot happen: masking keeps a line's @handle prefix
            continue
        continuation = _continuation(original, masked, index, handle)
        found.append(_parse_one(rest["rest"], continuation, post, index + 1, source, handle))
    return tuple(found)


# rust-lang's rfcbot (and triagebot) grammar: "@rfcbot concern NAME" opens a concern named
# NAME, whatever follows on the line (or the next lines) is its text; "@rfcbot resolve
# NAME" and "@rfcbot resolved NAME" settle it. Other rfcbot verbs (fcp, reviewed) are not ours.
# Projects run the same grammar under bots of their own name ("@rustbot concern ...",
# "@balestra-triagebot concern runner-cost"): a handle ending in "bot" is read alike.
FOREIGN_HANDLE = "rfcbot"
_FOREIGN = re.compile(
    rf"^\s{{0,3}}@(?P<handle>{FOREIGN_HANDLE}|[\w-]*bot):?\s+(?P<verb>concern|resolved?)\s+"
    rf"(?P<name>{NAME_PATTERN})(?P<rest>.*)$",
    re.IGNORECASE,
)


def is_foreign_command_line(line: str) -> bool:
    """Whether a (code-masked) line is another bot's concern command."""
    return _FOREIGN.match(line) is not None


def parse_foreign_commands(post: Post, own: str = DEFAULT_HANDLE) -> tuple[Command, ...]:
    """Concern commands of another bot, read like ours; never answered, never an error.
    (A handle of ours that ends in "bot" is ours: parse_commands reads it.)"""
    original = post.text.splitlines()
    masked = prose_lines(post.text)
    found: list[Command] = []
    for index, line in enumerate(masked):
        match = _FOREIGN.match(line)
        if match is None or match["handle"].casefold() == normalise_handle(own):
            continue
        raw = _FOREIGN.match(original[index]) or match
        verb = Verb.CONCERN if raw["verb"].casefold() == "concern" else Verb.RESOLVE
        name = raw["name"].casefold()
        text = " ".join(
            part
            for part in (
                raw["rest"].strip(" :"),
                _continuation(original, masked, index, FOREIGN_HANDLE),
            )
            if part
        ) or _paragraph_after(original, masked, index)
        found.append(
            Command(
                verb,
                name,
                text or raw["name"] if verb is Verb.CONCERN else text,
                post.key,
                post.author,
                post.created_at,
                index + 1,
                original[index].strip(),
            )
        )
    return tuple(found)


def _paragraph_after(original: list[str], masked: list[str], index: int) -> str:
    """A command alone on its line is explained by the paragraph under it ("@rfcbot
    concern runner-cost" / "" / "The donation is 12 months. After that, who pays?")."""
    start = index + 1
    while start < len(masked) and not masked[start].strip():
        start += 1
    if start >= len(masked) or is_foreign_command_line(masked[start]):
        return ""
    return _continuation(original, masked, start - 1, FOREIGN_HANDLE)


def _continuation(original: list[str], masked: list[str], index: int, handle: str) -> str:
    """Lines after a command up to a blank line or the next command: a concern may wrap."""
    lines: list[str] = []
    for position in range(index + 1, len(original)):
        if not masked[position].strip() or is_command_line(masked[position], handle):
            break
        lines.append(original[position].strip())
    return " ".join(lines)


def _parse_one(
    rest: str, continuation: str, post: Post, line: int, source: str, handle: str
) -> ParsedCommand:
    def error(reason: str) -> CommandError:
        return CommandError(reason, post.key, post.author, post.created_at, line, source)

    def command(verb: Verb, name: str | None, text: str) -> Command:
        return Command(verb, name, text, post.key, post.author, post.created_at, line, source)

    at = f"@{normalise_handle(handle)}"
    match = _VERB.match(rest)
    if match is None:
        return error(f"no command after {at}; {_known(at)}")
    word = match["verb"].casefold()
    args = match["args"].strip()
    try:
        verb = Verb(word)
    except ValueError:
        return error(_unknown_verb(word, at))
    if verb is Verb.CONCERN:
        return _parse_concern(args, continuation, at, error, command)
    if verb in (Verb.RESOLVE, Verb.WITHDRAW):
        return _parse_named(verb, args, at, error, command)
    # hold, unhold and help take no name; anything after is a free note.
    return command(verb, None, args.lstrip(":").strip())


def _parse_concern(
    args: str, continuation: str, at: str, error: _ErrorFactory, command: _CommandFactory
) -> ParsedCommand:
    usage = f"{at} {USAGE[Verb.CONCERN]}"
    if not args or args.startswith(":"):
        return error(f"`concern` needs a NAME before the colon: {usage}")
    name, colon, text = args.partition(":")
    name = name.strip()
    if not colon:
        if " " in name:
            return error(f"`concern` needs a colon after its one-word NAME: {usage}")
        return error(f"concern {name!r} has no text; write {at} concern {name}: what worries you")
    if not _NAME.match(name):
        return error(
            f"{name!r} is not a valid concern NAME (one word of letters, digits, '-', '_' or '.',"
            f" at most 48 characters): {usage}"
        )
    text = " ".join(part for part in (text.strip(), continuation) if part)
    if not text:
        return error(f"concern {name!r} has no text; write {at} concern {name}: what worries you")
    return command(Verb.CONCERN, name.casefold(), text)


def _parse_named(
    verb: Verb, args: str, at: str, error: _ErrorFactory, command: _CommandFactory
) -> ParsedCommand:
    usage = f"{at} {USAGE[verb]}"
    name, _, note = args.partition(" ")
    name = name.rstrip(":,.")
    if not name:
        return error(f"`{verb.value}` needs the NAME of a concern: {usage}")
    if not _NAME.match(name):
        return error(f"{name!r} is not a valid concern NAME: {usage}")
    return command(verb, name.casefold(), note.lstrip(":").strip())


def _unknown_verb(word: str, at: str) -> str:
    close = difflib.get_close_matches(word, [v.value for v in Verb], n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    return f"unknown command {word!r}.{hint} {_known(at)}"


def _known(at: str) -> str:
    return "known commands: " + ", ".join(f"{at} {USAGE[v]}" for v in Verb)


# --------------------------------------------------------------------------
# Who may do what
# --------------------------------------------------------------------------


class ResolvePolicy(StrEnum):
    """Who may resolve someone else's concern; projects differ, so it is a setting."""

    AUTHOR_OR_MAINTAINER = "author-or-maintainer"
    AUTHOR_ONLY = "author-only"
    ANYONE = "anyone"


def authorize(
    command: Command,
    actor: Person,
    concern: RaisedConcern | None,
    maintainers: Collection[str] = (),
    resolvers: ResolvePolicy = ResolvePolicy.AUTHOR_OR_MAINTAINER,
    *,
    people: People | None = None,
    post: Post | None = None,
) -> Authorization:
    """Whether ``actor`` may run ``command`` on ``concern``; a refusal says why.

    Defaults: anyone may raise a concern or ask for help; a concern is
    resolved by whoever raised it or by a maintainer (``resolvers``); only its
    author may withdraw it; holds are a maintainer's call. With ``people`` (the
    directory) and the command's ``post``, a sender whose identity cannot be
    verified may do nothing but raise concerns and ask for help, and people
    are compared by address and verified handle, never by display name alone.
    """
    verb = command.verb
    if verb in (Verb.CONCERN, Verb.HELP):
        return Authorization(True)
    if people is not None and post is not None:
        sender = people.author_of(post)
        if not sender.verified:
            return Authorization(False, f"I cannot verify who sent it: {sender.problem}")
    same = people.is_same_person if people is not None else is_same_person
    among = people.is_among if people is not None else is_maintainer
    if verb in (Verb.HOLD, Verb.UNHOLD):
        if among(actor, maintainers):
            return Authorization(True)
        return Authorization(False, f"only a maintainer may {verb.value} a decision")
    if concern is None:
        return Authorization(False, f"there is no concern named {command.name!r} in this thread")
    author = concern.raised_by.display
    if verb is Verb.WITHDRAW:
        if same(actor, concern.raised_by):
            return Authorization(True)
        return Authorization(False, f"only {author}, who raised {concern.id!r}, may withdraw it")
    if same(actor, concern.raised_by) or resolvers is ResolvePolicy.ANYONE:
        return Authorization(True)
    if resolvers is ResolvePolicy.AUTHOR_OR_MAINTAINER and among(actor, maintainers):
        return Authorization(True)
    if resolvers is ResolvePolicy.AUTHOR_ONLY:
        return Authorization(False, f"only {author}, who raised {concern.id!r}, may resolve it")
    return Authorization(
        False, f"only {author}, who raised {concern.id!r}, or a maintainer may resolve it"
    )


# --------------------------------------------------------------------------
# Replies, as data
# --------------------------------------------------------------------------


def help_text(handle: str = DEFAULT_HANDLE) -> str:
    at = f"@{normalise_handle(handle)}"
    lines = [f"I am {at}, the project's decision bot. Write one command per line:"]
    lines += [f"  {at} {USAGE[verb]}" for verb in Verb]
    lines.append("Quoted text and code are ignored, so examples in them never run.")
    return "\n".join(lines)


def reply(target: str, text: str, stage: str) -> Action:
    """A reply to one post; the key makes the same reply to the same post idempotent."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Action(kind="reply", target=target, text=text, key=f"reply:{stage}:{target}:{digest}")


def error_reply(error: CommandError, handle: str = DEFAULT_HANDLE) -> Action:
    text = (
        f"I could not read this command:\n  {error.source}\nReason: {error.reason}\n"
        f"Write @{normalise_handle(handle)} help for the list of commands."
    )
    return reply(error.post, text, "command-error")


def refusal_reply(command: Command, reason: str) -> Action:
    text = f"I did not run this command:\n  {command.source}\nReason: {reason}"
    return reply(command.post, text, "command-refused")


def help_reply(command: Command, handle: str = DEFAULT_HANDLE) -> Action:
    return reply(command.post, help_text(handle), "help")
