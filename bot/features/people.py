"""The directory of people the config describes, built once per configuration.

``[identities]``, the roster, module maintainers, the bot's own name and
address and the ``[trust]`` settings become one
:class:`~bot.core.modules.People` (a :class:`~bot.core.people.People`
that also finds mentions). Votes, the concern ledger and responsiveness all ask
it who wrote a post.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.config import Config
from bot.core.people import People, TrustSettings
from bot.errors import ConfigError
from bot.features.settings import per_config


@per_config
def people_from(config: Config) -> People:
    """The directory for ``config``; an alias claimed by two people is a ConfigError."""
    return directory_of(config, {})


def directory_of(config: Config, accepted: Mapping[str, Sequence[str]]) -> People:
    """The config's people plus links a person accepted (``quorum people accept``).

    The config wins: an accepted alias another configured person already claims is
    left out rather than made a clash.
    """
    identities = {person: tuple(aliases) for person, aliases in config.identities.items()}
    claimed = {alias.casefold() for aliases in identities.values() for alias in aliases}
    learned: dict[str, tuple[str, ...]] = {}
    for person, aliases in accepted.items():
        fresh = tuple(a for a in aliases if a.casefold() not in claimed and a != person)
        if fresh:
            learned[person] = fresh
            claimed.update(a.casefold() for a in fresh)
    known = [member.name for member in config.roster.members]
    known += [
        name
        for section in config.modules.values()
        if isinstance(section.maintainers, list)
        for name in section.maintainers
    ]
    try:
        return People(
            identities,
            known=tuple(dict.fromkeys(known)),
            learned=learned,
            bot_addresses=bot_addresses(config),
            bot_name=config.bot.name,
            trust=trust_settings(config),
        )
    except ValueError as error:  # one alias claimed by two people
        raise ConfigError(f"identities: {error}") from None


@per_config
def bot_addresses(config: Config) -> tuple[str, ...]:
    """Every name the bot writes under: its mail address and its user on each forum
    (a forum post's author is its username), so its own posts are never read as
    anyone's concern, ballot or answer."""
    forums = config.discourse.forums.values() if config.discourse is not None else ()
    return tuple(dict.fromkeys([config.bot.address, *(f.api_username for f in forums)]))


@per_config
def trust_settings(config: Config) -> TrustSettings:
    section = config.trust
    return TrustSettings(
        list_hosts=tuple(section.list_hosts),
        list_ids=frozenset(section.list_ids),
        authserv_ids=frozenset(section.authserv_ids),
        received_hops=section.received_hops,
    )
