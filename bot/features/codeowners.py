"""Module maintainers that follow the repository: ``maintainers = { from = "CODEOWNERS" }``.

The owners of the CODEOWNERS rules covering a module's ``paths`` are its
maintainers (see ``bot.core.codeowners``). The file is the one named by ``file``
(relative to the config file) or, without one, the CODEOWNERS that ``quorum fetch
github`` (or the poll in ``quorum run``) read from the repository. Owners are
GitHub logins; a login that [identities], a roster or an accepted hint ties to a
person becomes that person's name, so that mail from their address counts too.
"""

from __future__ import annotations

import logging

from bot.config import Config, MaintainersFrom, ModuleConfig
from bot.core.codeowners import login_of, module_owners, parse_codeowners
from bot.core.people import People
from bot.errors import ConfigError
from bot.features.people import people_from
from bot.features.roster import people_for
from bot.store import Store
from bot.store import sources as source_store

logger = logging.getLogger(__name__)


def module_maintainers(
    config: Config, name: str, section: ModuleConfig, store: Store | None
) -> tuple[str, ...]:
    """The module's maintainers: as configured, or from CODEOWNERS."""
    spec = section.maintainers
    if not isinstance(spec, MaintainersFrom):
        return tuple(spec)
    if not section.paths:
        logger.warning("modules.%s: maintainers from CODEOWNERS need the module's paths", name)
        return ()
    text = codeowners_text(config, name, spec, store)
    if text is None:
        return ()
    owners = module_owners(section.paths, parse_codeowners(text))
    people = people_for(store, config) if store is not None else people_from(config)
    return tuple(dict.fromkeys(_person(login_of(owner), people) for owner in owners))


def codeowners_text(
    config: Config, name: str, spec: MaintainersFrom, store: Store | None
) -> str | None:
    if spec.file:
        path = config.resolve(spec.file)
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"modules.{name}.maintainers: cannot read {path}: {error}") from None
    repo = spec.repo or (config.github.repos[0] if config.github else "")
    if not repo:
        raise ConfigError(
            f"modules.{name}.maintainers: name a CODEOWNERS `file`, or a `repo`"
            " (or list it in github.repos) for `quorum fetch github` to read it from"
        )
    text = source_store.stored_file(store, repo, "CODEOWNERS") if store is not None else None
    if text is None:
        logger.warning(
            "modules.%s: no CODEOWNERS of %s read yet; run `quorum fetch github`", name, repo
        )
    return text


def _person(owner: str, people: People) -> str:
    """The person a CODEOWNERS login or address names, else the owner as written."""
    return people.person_of_handle(owner) or people.named(owner) or owner
