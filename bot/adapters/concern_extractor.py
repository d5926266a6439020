"""Asking an OpenAI-compatible endpoint which concerns one post raises.

Off by default; on with ``[concerns] extractor = "summarizer"``, when it asks the
``[summarizer]`` endpoint (``url``, ``model``, ``api_key_env``,
``timeout_seconds``, ``max_tokens``) at temperature 0, in JSON mode. The HTTP,
the one retry after a 429 (honouring Retry-After), a 5xx or a dropped
connection, and the API key (read from the environment at call time, never
logged) are :func:`bot.adapters.summarizer.complete`'s. What is sent and what
of the answer is believed are :mod:`bot.core.concern_extraction`'s.

Two kinds of failure are told apart: the endpoint not answering (down, slow,
refusing the key, rate-limited twice) raises :class:`ExtractorUnavailable`, so
the job stops and tries again later; an answer that is not the JSON asked for
(or cut off at ``max_tokens``) is an answer, cached as unreadable, so the same
post is not asked again and again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp

from bot.adapters.summarizer import EndpointFailed, complete
from bot.config import SummarizerConfig
from bot.core.concern_extraction import (
    ANSWERED,
    SYSTEM_PROMPT,
    UNREADABLE,
    ExtractionRequest,
    Proposal,
    read_answer,
)

logger = logging.getLogger(__name__)


class ExtractorUnavailable(Exception):
    """The endpoint gave no answer; the message says why and holds no secret."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """What the endpoint answered about one post: ``outcome`` ANSWERED or UNREADABLE."""

    outcome: str
    proposals: tuple[Proposal, ...] = ()
    # Why an answer was unreadable, for the log.
    reason: str = ""


async def extract(
    request: ExtractionRequest,
    config: SummarizerConfig,
    *,
    session: aiohttp.ClientSession | None = None,
) -> Extracted:
    """The concerns the model proposes for one post, unchecked."""
    try:
        content = await complete(
            SYSTEM_PROMPT, request.user, config, session=session, temperature=0.0, json_object=True
        )
    except EndpointFailed as failure:
        if failure.answered:
            return Extracted(UNREADABLE, reason=str(failure))
        raise ExtractorUnavailable(str(failure)) from None
    except Exception as error:
        # A bug here must not reach the scheduler as a traceback; only the type is
        # logged: an exception's text is not ours to vouch for.
        raise ExtractorUnavailable(f"unexpected {type(error).__name__}") from None
    proposals = read_answer(content)
    if proposals is None:
        return Extracted(UNREADABLE, reason="the answer is not the JSON asked for")
    return Extracted(ANSWERED, proposals)
