"""Errors a user can act on. The CLI prints their message and exits; never a traceback."""

from __future__ import annotations


class QuorumError(Exception):
    """Base of every error Quorum raises on purpose."""

    exit_code = 1


class UserError(QuorumError):
    """Bad input from the person running Quorum: a path, an argument, a file."""

    exit_code = 1


class ConfigError(QuorumError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2


class TransientError(QuorumError):
    """A remote service failed in a way that a later retry may fix."""
