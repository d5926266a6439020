"""The list archive of the configuration, as the link builder (:mod:`bot.core.links`) needs it.

Every reader that names a post (reminders, the digest, the catch-up summary, the
CLI, the channels) links it through here, so a post is linked the same way in
every message. The dashboard should call :func:`link_of` too.
"""

from __future__ import annotations

from functools import lru_cache

from bot.config import Config, ProjectConfig
from bot.core.links import Archive, Linkable, reference
from bot.features.settings import per_config
from bot.model import Post


@per_config
def archive_of(config: Config) -> Archive:
    """``project.archive_url`` and ``project.archive`` as a core value."""
    return _archive(config.project)


@lru_cache(maxsize=8)
def _archive(project: ProjectConfig) -> Archive:
    return Archive.of(project.archive_url, project.archive, project.list_address)


def link_of(post: Post, config: Config) -> str:
    """A stored post as a line names it: its URL, else its Message-ID, else who and when."""
    return reference(
        post,
        archive_of(config),
        author=post.author.display,
        subject=post.subject,
        at=post.created_at,
    )


def archive_problem(config: Config) -> str | None:
    """Why no archive link can be made (for `quorum check-config`), or None."""
    return archive_of(config).problem()


__all__ = ["Linkable", "archive_of", "archive_problem", "link_of"]
