"""Who wrote a post: one person behind many addresses and handles, decided by the address.

A display name is anyone's to type: ``From: Alice Archer <mallory@evil.example>``
costs nothing. So a person is recognised by what the transport vouches for:

* the mail address (``From``), as the list delivered it;
* a GitHub login, for mail GitHub mirrored to the list, but only when that
  mail really came through the list (or from an archive the operator chose):
  anyone can hand-write ``From: tqchen <notifications@github.com>``;
* a forum username, which the forum's API reports.

:class:`People` is the directory the configuration describes (``[identities]``,
the roster, module maintainers, the bot itself) and the one place that answers
"who is this author". A display name that names a configured person whose
address or handle is known, from an address or handle that is not theirs, is
not that person: :meth:`People.author_of` marks it ``unverified`` and names the
person it claims to be, so a ballot from it never binds, a command from it is
refused and a post from it never discharges an obligation.

People configured by name only (a roster entry with no addresses) can only be
recognised by display name; that is the operator's choice, and reports say so
(``by_name``). The README's "Trust model" section is the user-facing version
of this module.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.core.mail import HEADER_RELAYED_BY
from bot.core.text import is_attribution, prose_lines
from bot.model import Person, Post, Source

GITHUB_NOREPLY = "@users.noreply.github.com"
# Newer GitHub noreply addresses put the account id first: "12345+login@users.noreply...".
_NOREPLY_ID = re.compile(r"^\d+\+")
_ADDRESS_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|<[^<>]*>")
_GITHUB_SENDERS = frozenset({"notifications@github.com", "noreply@github.com"})
_GITHUB_ROOT = re.compile(r"^<[\w.-]+/[\w.-]+/(?:pull|issues|repo-discussions)/\d+@github\.com>$")


# --------------------------------------------------------------------------
# Names and addresses: the one normaliser
# --------------------------------------------------------------------------


_NOT_NAME = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """A key for comparing names: "Hervé BOUTEMY" ~ "herve boutemy", "Karl-Heinz" ~ "Karl Heinz"."""
    if name.isascii():
        # NFKD leaves ASCII as it is and it has no combining marks: the character loop
        # below was most of the time a tick spends finding mentions in a post's prose.
        plain = name.casefold()
    else:
        decomposed = unicodedata.normalize("NFKD", name)
        plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_NOT_NAME.sub(" ", plain).split())


def address_key(address: str) -> str:
    """Addresses compare exactly, ignoring case (and accents a client may have folded)."""
    if address.isascii():
        # As in name_key: NFKD changes no ASCII, and this character loop was a tenth of
        # the views' first build (every post's author is compared many times).
        return address.strip().casefold()
    decomposed = unicodedata.normalize("NFKD", address.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def github_login(address: str) -> str:
    """``login`` from ``login@users.noreply.github.com`` (also ``12345+login@...``), else ""."""
    lowered = address.strip().casefold()
    if not lowered.endswith(GITHUB_NOREPLY):
        return ""
    return _NOREPLY_ID.sub("", lowered.removesuffix(GITHUB_NOREPLY))


def clean_alias(alias: str) -> str:
    """An alias as written in config, without surrounding space or a login's leading "@"."""
    return alias.strip().removeprefix("@").strip()


def _is_handle(alias: str) -> bool:
    # A login or username: one word, no "@". A display name has spaces.
    return bool(alias) and "@" not in alias and not any(c.isspace() for c in alias)


# --------------------------------------------------------------------------
# How a post reached us, and what the transport vouches for
# --------------------------------------------------------------------------


class Via(StrEnum):
    """How a post reached the store."""

    SMTP = "smtp"  # delivered to our SMTP endpoint: checked against [trust]
    ARCHIVE = "archive"  # imported from an archive the operator chose
    FORUM = "forum"  # read from the forum's API
    UNKNOWN = ""  # stored before Quorum recorded it: checked like SMTP

    @classmethod
    def of(cls, post: Post) -> Via:
        if post.source is Source.DISCOURSE:
            return cls.FORUM
        try:
            return cls(post.via)
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class TrustSettings:
    """What proves that SMTP mail came through the list (the ``[trust]`` section).

    ``list_hosts``: hosts the list delivers from; a ``Received`` header among
    the first ``received_hops`` (those your own servers wrote) must say the mail
    came from one of them (``*.apache.org`` matches any host under it).
    ``list_ids``: if given, the mail's ``List-Id`` must be one of them too.
    ``authserv_ids``: ``Authentication-Results`` headers with one of these ids
    (your MTA's, which removes forged ones, RFC 8601 section 5) are honoured:
    a DKIM or ARC pass proves the mail, a DMARC failure disproves its From.
    """

    list_hosts: tuple[str, ...] = ()
    list_ids: frozenset[str] = frozenset()
    authserv_ids: frozenset[str] = frozenset()
    received_hops: int = 1

    @property
    def configured(self) -> bool:
        return bool(self.list_hosts or self.authserv_ids)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One ``method=result`` of an Authentication-Results header, with its properties."""

    authserv_id: str
    method: str
    result: str
    properties: Mapping[str, str] = field(default_factory=dict)


def parse_authentication_results(value: str) -> list[AuthResult]:
    """``mx.example.org; dkim=pass header.d=github.com; arc=pass`` (RFC 8601), leniently."""
    parts = [part.strip() for part in _strip_comments(value).split(";")]
    if not parts or not parts[0]:
        return []
    authserv_id = parts[0].split()[0].casefold()  # a version number may follow the id
    found: list[AuthResult] = []
    for part in parts[1:]:
        tokens = part.split()
        if not tokens or "=" not in tokens[0]:
            continue
        method, _, result = tokens[0].partition("=")
        properties = {}
        for token in tokens[1:]:
            name, equals, text = token.partition("=")
            if equals:
                properties[name.casefold()] = text.strip('"').casefold()
        found.append(AuthResult(authserv_id, method.casefold(), result.casefold(), properties))
    return found


def _strip_comments(value: str) -> str:
    previous = None
    while previous != value:  # comments nest
        previous, value = value, re.sub(r"\([^()]*\)", " ", value)
    return value


_RECEIVED_FROM = re.compile(r"^\s*from\s+(?P<helo>\S+)(?:\s+\((?P<seen>[^)]*)\))?", re.I)


def received_from_hosts(value: str) -> tuple[str, ...]:
    """The hosts a ``Received: from`` clause names: what the receiving server saw
    (reverse DNS and address in parentheses) before what the sender claimed (HELO)."""
    match = _RECEIVED_FROM.match(value)
    if match is None:
        return ()
    seen = re.findall(r"[\w.:-]+", match["seen"] or "")
    hosts = [token.strip("[]").casefold() for token in seen if "." in token or ":" in token]
    if not hosts:
        hosts = [match["helo"].strip("[]").casefold()]
    return tuple(hosts)


def _host_matches(host: str, pattern: str) -> bool:
    wanted = pattern.strip().casefold()
    if wanted.startswith("*."):
        return host.endswith(wanted[1:])
    return host == wanted


def came_through_list(post: Post, trust: TrustSettings) -> tuple[bool, str]:
    """Whether SMTP mail provably came through the list, and the evidence (or its absence)."""
    for result in authentication_results(post, trust):
        if result.method in ("dkim", "arc") and result.result == "pass":
            return True, f"{result.method}=pass from {result.authserv_id}"
    if not trust.list_hosts:
        return False, "no [trust] list_hosts or authserv_ids configured to check it against"
    list_id = (post.list_id or "").strip("<>").casefold()
    if trust.list_ids and list_id not in trust.list_ids:
        return False, f"List-Id {list_id or '(none)'} is not a trusted list"
    for received in received_headers(post)[: max(trust.received_hops, 1)]:
        for host in received_from_hosts(received):
            if any(_host_matches(host, pattern) for pattern in trust.list_hosts):
                return True, f"received from the list host {host}"
    return False, "no Received header from a list host"


def received_headers(post: Post) -> list[str]:
    return [line for line in post.headers.get("Received", "").split("\n") if line.strip()]


def authentication_results(post: Post, trust: TrustSettings) -> list[AuthResult]:
    """The results of trusted Authentication-Results headers only: anyone can write one."""
    if not trust.authserv_ids:
        return []
    found: list[AuthResult] = []
    for header in post.headers.get("Authentication-Results", "").split("\n"):
        found += [
            r for r in parse_authentication_results(header) if r.authserv_id in trust.authserv_ids
        ]
    return found


def mirror_login(post: Post) -> str:
    """The GitHub login a mirror mail names: X-GitHub-Sender, else its noreply address."""
    sender = post.headers.get("X-GitHub-Sender", "").strip()
    return sender or github_login(post.author.address) or post.author.name


def is_github_mirror(post: Post) -> bool:
    """Mail that presents itself as GitHub's copy of a comment (mirrored to the list)."""
    if post.source is not Source.MAIL:
        return False
    if "X-GitHub-Sender" in post.headers or post.author.address in _GITHUB_SENDERS:
        return True
    return bool(_GITHUB_ROOT.match(post.thread_key)) and post.author.address.endswith(
        GITHUB_NOREPLY
    )


# --------------------------------------------------------------------------
# The directory
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a post, as far as the bot can tell.

    ``key`` is one key per person: the configured person, or else the handle or
    address the transport vouches for (``name:`` keys for people only known by
    display name). ``name`` is the configured person's name, else the display
    name. ``problem`` says why the identity is unverified ("" when it is not);
    ``claims`` names the configured person the post pretends to be.
    """

    source: Person
    key: str
    name: str
    configured: bool = False
    via: Via = Via.UNKNOWN
    how: str = ""
    problem: str = ""
    claims: str | None = None
    by_name: bool = False
    is_bot: bool = False

    @property
    def verified(self) -> bool:
        return not self.problem

    @property
    def label(self) -> str:
        """The author as the source wrote them: "Name <address>"."""
        person = self.source
        if person.name and person.address:
            return f"{person.name} <{person.address}>"
        return person.display

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "from": self.label,
            "verified": self.verified,
            "via": self.via.value or "unknown",
            "how": self.how,
            "problem": self.problem or None,
            "claims": self.claims,
            "by_name": self.by_name,
        }


def _claim(index: dict[str, tuple[str, str]], key: str, person: str, alias: str) -> None:
    if not key:
        return
    owner = index.get(key)
    if owner is not None and name_key(owner[0]) != name_key(person):
        raise ValueError(f"identity {alias!r} is claimed by both {owner[0]!r} and {person!r}")
    index.setdefault(key, (person, alias))


@dataclass(frozen=True, slots=True)
class People:
    """One person, many names: who an author is, by address and verified handle.

    ``identities`` maps a person (the name the config uses) to their aliases:
    addresses, logins (GitHub, forum, Slack ids) and display names. Addresses
    and logins identify; display names only name (a RESULT mail, a mention in
    prose). ``known`` are more people the config names (roster members, module
    maintainers) who may have no aliases at all. An alias claimed by two people
    is a configuration error, raised at construction.
    """

    identities: Mapping[str, Sequence[str]] = field(default_factory=dict)
    known: Collection[str] = ()
    # Aliases learned rather than configured (a roster import's @apache.org address, an
    # accepted hint): they identify whoever writes from them, but they are not all of a
    # person's addresses, so mail from another address with that person's name is not
    # taken for a forgery (it is flagged by name instead, as for name-only members).
    learned: Mapping[str, Sequence[str]] = field(default_factory=dict)
    bot_addresses: Collection[str] = ()
    bot_name: str = ""
    trust: TrustSettings = field(default_factory=TrustSettings)
    _by_address: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _by_handle: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _by_name: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _verifiable: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)
    _bots: frozenset[str] = field(init=False, repr=False, compare=False, hash=False)
    # (" full name key ", person): the names searched for in prose (mentions).
    full_names: tuple[tuple[str, str], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        addresses: dict[str, tuple[str, str]] = {}
        handles: dict[str, tuple[str, str]] = {}
        names: dict[str, tuple[str, str]] = {}
        verifiable: set[str] = set()
        full_names: list[tuple[str, str]] = []
        people = {**{person: () for person in self.known}, **self.identities}
        entries = [(p, a, True) for p, a in people.items()]
        entries += [(p, a, False) for p, a in self.learned.items()]
        for person, aliases, configured in entries:
            learned_only = not configured
            _claim(names, name_key(person), person, person)
            if " " in person.strip():
                full_names.append((f" {name_key(person)} ", person))
            for alias in map(clean_alias, aliases):
                if "@" in alias:
                    _claim(addresses, address_key(alias), person, alias)
                    login = github_login(alias)
                    if login:
                        _claim(handles, login, person, alias)
                    if not learned_only:
                        verifiable.add(person)
                    continue
                _claim(names, name_key(alias), person, alias)
                if _is_handle(alias):
                    _claim(handles, alias.casefold(), person, alias)
                    if not learned_only:
                        verifiable.add(person)
                else:
                    full_names.append((f" {name_key(alias)} ", person))
        bots = frozenset(address_key(a) for a in self.bot_addresses if a)
        if self.bot_name and bots:
            # The bot's own name is an identity like any other: claiming it is flagged.
            names.setdefault(name_key(self.bot_name), (self.bot_name, self.bot_name))
            for address in bots:
                addresses.setdefault(address, (self.bot_name, address))
            verifiable.add(self.bot_name)
        object.__setattr__(self, "_by_address", {k: p for k, (p, _) in addresses.items()})
        object.__setattr__(self, "_by_handle", {k: p for k, (p, _) in handles.items()})
        object.__setattr__(self, "_by_name", {k: p for k, (p, _) in names.items()})
        object.__setattr__(self, "_verifiable", frozenset(verifiable))
        object.__setattr__(self, "_bots", bots)
        object.__setattr__(self, "full_names", tuple(full_names))

    # -- people the config names ---------------------------------------------------------

    def named(self, name: str) -> str | None:
        """The configured person a name, login or address names (in a RESULT mail, a roster)."""
        text = clean_alias(name)
        if "@" in text:
            return self._by_address.get(address_key(text))
        return self._by_name.get(name_key(text)) or self._by_handle.get(text.casefold())

    def person_of_handle(self, handle: str) -> str | None:
        """The person an ``@handle`` (GitHub login, Slack id, one-word name) names."""
        return self._by_handle.get(clean_alias(handle).casefold())

    def is_bot(self, author: Person) -> bool:
        return bool(author.address) and address_key(author.address) in self._bots

    # -- mentions --------------------------------------------------------------------------

    def mentioned(self, post: Post) -> tuple[str, ...]:
        """People the post's new text addresses, by ``@handle`` or by full name, in order.

        Code and attribution lines are skipped: "Bob Baker wrote:" quotes Bob,
        it does not ask him anything. Only full names are searched in prose: a
        bare first name or login without "@" is too common a word to mean the person.
        """
        found: list[str] = []
        for handle in post.mentions:
            person = self.person_of_handle(handle)
            if person is not None and person not in found:
                found.append(person)
        # A key a line: most lines are ASCII, which name_key reads at C speed.
        keys = (name_key(line) for line in prose_lines(post.text) if not is_attribution(line))
        haystack = f" {' '.join(key for key in keys if key)} "
        for needle, person in self.full_names:
            if needle in haystack and person not in found:
                found.append(person)
        return tuple(found)

    def mentions(self, post: Post, person: str) -> bool:
        key = name_key(person)
        return any(name_key(found) == key for found in self.mentioned(post))

    # -- authors ---------------------------------------------------------------------------

    def person_of(self, author: Person) -> str | None:
        """The configured person behind an author, by address or handle; never by display
        name, except for people the config knows by name only."""
        found = self._by_identifier(author)
        if found is not None:
            return found
        by_name = self._by_name.get(name_key(author.name)) if author.name else None
        if by_name is not None and by_name not in self._verifiable:
            return by_name
        return None

    def claims(self, author: Person) -> str | None:
        """The verifiable person the author's display name claims while the address is not
        theirs: "Alice Archer <mallory@evil.example>", or an address inside the name."""
        own = self._by_identifier(author)
        for candidate in _claimed_names(author.name):
            claimed = (
                self._by_address.get(address_key(candidate))
                if "@" in candidate
                else self._by_name.get(name_key(candidate))
            )
            if claimed is not None and claimed in self._verifiable and claimed != own:
                return claimed
        return None

    def is_person(self, author: Person, person: str) -> bool:
        """Whether the author is ``person``. Authors the config does not know match their own
        display name (a stranger is who they say, as long as nobody configured claims it)."""
        wanted = name_key(person)
        found = self.person_of(author)
        if found is not None:
            return name_key(found) == wanted
        if self.claims(author) is not None or wanted in self._by_name:
            return False
        return bool(author.name) and name_key(author.name) == wanted

    def is_among(self, author: Person, entries: Iterable[str]) -> bool:
        """Whether the author is one of ``entries`` (people or their aliases, as in config):
        by address or handle for people the config can verify, by name for the rest."""
        person = self.person_of(author)
        for entry in entries:
            named = self.named(entry)
            if named is not None:
                if person is not None and name_key(named) == name_key(person):
                    return True
            elif "@" in entry:
                if author.address and address_key(author.address) == address_key(entry):
                    return True
            elif self.is_person(author, entry):
                return True
        return False

    def is_same_person(self, one: Person, other: Person) -> bool:
        """Same configured person, else same address; display names decide only between
        authors who both lack an address."""
        first, second = self.person_of(one), self.person_of(other)
        if first is not None or second is not None:
            return first == second
        return is_same_person(one, other)

    def author_of(self, post: Post) -> Author:
        """Who wrote ``post``, how the bot knows, and what (if anything) it cannot verify."""
        author = post.author
        via = Via.of(post)
        problem, how = self._transport_problem(post, via)
        person = self.person_of(author)
        if person is None and not problem and is_github_mirror(post):
            person = self._by_handle.get(mirror_login(post).casefold())
        claims = self.claims(author)
        if claims is not None and claims == person:
            claims = None  # a verified login of theirs, under their own name
        if claims is not None and not problem:
            problem = (
                f"the name {author.name!r} belongs to {claims}, but"
                f" {author.address or 'this sender'} is not one of {claims}'s addresses"
            )
        if problem:
            # An unverified author never merges with the person they may be pretending to be.
            return Author(
                author,
                key=f"unverified:{address_key(author.address) or name_key(author.name)}",
                # Shown with the address, so the name alone never reads as the person.
                name=f"{author.name} <{author.address}>"
                if author.name and author.address
                else author.display,
                via=via,
                how=how,
                problem=problem,
                claims=claims,
                is_bot=False,
            )
        if person is not None:
            by_name = self._by_identifier(author) is None
            if by_name:
                how = f"display name {author.name!r} (the config gives {person} no address)"
            return Author(
                author,
                key=f"person:{name_key(person)}",
                name=person,
                configured=True,
                via=via,
                how=how,
                by_name=by_name,
                is_bot=self.is_bot(author),
            )
        # Not configured: people known only by the name they write are merged by it, so
        # one voice from two addresses stays one voice (reports say when that happened).
        return Author(
            author,
            key=f"name:{name_key(author.name) or address_key(author.address)}",
            name=author.display,
            via=via,
            how=how,
            by_name=True,
            is_bot=self.is_bot(author),
        )

    def _by_identifier(self, author: Person) -> str | None:
        address = author.address.strip()
        if not address:
            return None
        if "@" not in address:
            return self._by_handle.get(address.casefold())  # a forum username
        found = self._by_address.get(address_key(address))
        if found is None:
            login = github_login(address)
            found = self._by_handle.get(login) if login else None
        return found

    def _transport_problem(self, post: Post, via: Via) -> tuple[str, str]:
        """("", how) when the transport vouches for the author's identifier, else (why not, how)."""
        author = post.author
        if via is Via.FORUM:
            return "", f"forum username {author.address}"
        if is_github_mirror(post):
            login = mirror_login(post)
            if via is Via.ARCHIVE:
                return "", f"GitHub login {login} (from an imported archive)"
            through, evidence = came_through_list(post, self.trust)
            if through:
                return "", f"GitHub login {login} (came through the list: {evidence})"
            return (
                f"claims to be GitHub's copy of a comment by {login}, but did not come"
                f" through the list ({evidence})",
                f"GitHub login {login}, unverified",
            )
        where = "an imported archive" if via is Via.ARCHIVE else "SMTP"
        how = f"address {author.address} (from {where})" if author.address else ""
        relayed = post.headers.get(HEADER_RELAYED_BY, "")
        if not author.address:
            if relayed:
                return f"relayed by {relayed}", "no address"
            return "no sender address to identify the author by", "no address"
        if relayed and via is not Via.ARCHIVE:
            # What the relay signs is its own From; the author's address is a header it
            # passed on, which nothing here can check.
            return f"relayed by {relayed}, which nothing verifies", how
        if via is not Via.ARCHIVE:
            for result in authentication_results(post, self.trust):
                if result.method == "dmarc" and result.result == "fail":
                    return (
                        f"{result.authserv_id} reports DMARC failure for the From domain",
                        how,
                    )
        return "", how


def _claimed_names(display: str) -> list[str]:
    """What a display name may claim: itself, itself without bracketed parts, addresses in it."""
    if not display:
        return []
    candidates = [display, _BRACKETED.sub(" ", display)]
    candidates += _ADDRESS_IN_TEXT.findall(display)
    return [c for c in dict.fromkeys(c.strip() for c in candidates) if c]


# --------------------------------------------------------------------------
# Person-to-person checks without a directory (commands, ledgers)
# --------------------------------------------------------------------------


# Only a tool's sending address is shared so: a person's own address under several
# names is one person (or someone borrowing names, whom the address must keep naming).
_TOOL_SENDER = re.compile(
    r"(?:no-?reply|notifications?|gerrit|gitlab|gitea|reviews?|code-?review|bugzilla(?:-daemon)?"
    r"|phabricator|forum|discourse|community|mailer|daemon|bot)(?:[+._-][^@]*)?@",
    re.IGNORECASE,
)


def without_shared_senders(posts: Sequence[Post]) -> list[Post]:
    """The posts, with the address dropped where people who are plainly not one person
    write from a tool's sending address: a tracker's or review tool's one address
    ("Alice Archer (Code Review) <gerrit@...>", "Bob Baker <gitlab@...>") names nobody,
    and read as an address it would make everyone one voice, the proposer included.
    Their names still tell them apart; without an address they carry no weight (see
    Trust model).
    """
    names: dict[str, set[frozenset[str]]] = {}
    for post in posts:
        words = _name_words(post.author.name)
        if words and _TOOL_SENDER.match(post.author.address):
            names.setdefault(address_key(post.author.address), set()).add(words)
    shared = {address for address, seen in names.items() if _several_people(seen)}
    if not shared:
        return list(posts)
    return [
        replace(post, author=Person(name=post.author.name, address=""))
        if address_key(post.author.address) in shared
        else post
        for post in posts
    ]


def _name_words(name: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", name.casefold()))


def _several_people(names: set[frozenset[str]]) -> bool:
    """Two names neither of which contains the other ("Bob" and "Bob Baker" may be one)."""
    return any(not (one <= other or other <= one) for one in names for other in names)


def is_same_person(one: Person, other: Person) -> bool:
    """Same address when both have one; otherwise the same display name.

    Strict on purpose: a display name is anyone's to type, so when addresses
    exist they decide.
    """
    if one.address and other.address:
        return address_key(one.address) == address_key(other.address)
    return bool(one.name) and address_key(one.name) == address_key(other.name)


def is_maintainer(person: Person, maintainers: Iterable[str]) -> bool:
    """Entries with an ``@`` match addresses; others match display names or logins.

    This is the directory-free check; :meth:`People.is_among` is the one that
    knows which entries are verifiable people, and callers with a directory use it.
    """
    for entry in maintainers:
        wanted = address_key(entry)
        if "@" in wanted:
            if person.address and address_key(person.address) == wanted:
                return True
        elif person.name and address_key(person.name) == wanted:
            return True
    return False
