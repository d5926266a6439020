"""Optional prose rewriting of a summary by an OpenAI-compatible chat completions endpoint.

Off by default. The summary Quorum computes itself is the record; this adapter only
offers a more readable wording of it. It therefore never fails its caller: on a
timeout, an HTTP error, an answer it cannot read, or a rewrite that lost a concern
id or a person's name, it logs a warning and returns the original text unchanged.

The endpoint is anything that speaks ``POST {url}/chat/completions``: OpenAI itself,
or a local server (Ollama, llama.cpp, vLLM) so that community mail need not leave
the host. The API key is read from the environment at call time, from the variable
that ``api_key_env`` names, and is never logged, not even as the endpoint's error
message (OpenAI's 401 message repeats short keys in full).

Callers that hold the :class:`~bot.core.summary.Summary` should pass
``keep=required_terms(summary)``, the exact ids and names to check for; without it
they are read back from the text, which knows the layout of
``templates/email/summary.txt.j2``. A mail signature (after a ``-- `` line: who the
bot is and how to talk to it) is not sent, and comes back unchanged after the rewrite.

:func:`complete` is the same call (timeout, retry, key) for other questions to the
same endpoint: the optional concern extractor (bot.adapters.concern_extractor) asks
it which concerns a post raises.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from yarl import URL

from bot.config import DEFAULT_SUMMARIZER_KEY_ENV, SummarizerConfig

if TYPE_CHECKING:
    from bot.core.summary import ConcernLine, Summary

logger = logging.getLogger(__name__)

DEFAULT_API_KEY_ENV: Final = DEFAULT_SUMMARIZER_KEY_ENV
# Pause before the one retry after a 5xx or a dropped connection, and after a 429
# that does not say how long to wait.
RETRY_DELAY_SECONDS: Final = 0.5
# A Retry-After longer than this is not worth waiting for: the original text is fine.
MAX_RETRY_AFTER_SECONDS: Final = 10.0

SYSTEM_PROMPT: Final = (
    "You rewrite the status summary of a mailing-list discussion as fluent, concise prose "
    "for the people taking part in it.\n"
    "Rules:\n"
    "- Keep every concern id exactly as written, in square brackets, for example "
    "[thread-safety].\n"
    "- Keep every person's name and every date exactly as written.\n"
    "- Keep who raised, answered or resolved each concern, and whether it is open, "
    "answered, resolved or withdrawn.\n"
    "- Do not invent, guess or add anything that is not in the summary; no opinions, "
    "no advice.\n"
    "- Answer in plain text only: no Markdown, no headings, no preamble."
)

# Concern ids are slugs (bot.core.concerns.slugify): lowercase words joined by hyphens.
_CONCERN_ID: Final = re.compile(r"\[[a-z0-9]+(?:-[a-z0-9]+)*\]")
# The places where templates/email/summary.txt.j2 names people; a test keeps these in
# step with it. Indentation is optional: lstrip_blocks removes it before some tags.
_DATE: Final = r"\d{4}-\d{2}-\d{2}"
_PROPOSER: Final = re.compile(rf"^Proposed by (.+?) on {_DATE}", re.MULTILINE)
_RAISER: Final = re.compile(rf"^[ \t]*raised by (.+?) on {_DATE}", re.MULTILINE)
_ANSWERERS: Final = re.compile(r"^[ \t]*answered by (.+?);", re.MULTILINE)
_SETTLER: Final = re.compile(
    r"^[ \t]*(?:answered by [^;]*; )?(?:resolved|withdrawn) by (.+)$", re.MULTILINE
)
_PARTICIPANT: Final = re.compile(r"(?:^Participants: |, )(.+?) \(\d+ posts?(?:, \d+ raised)?\)")
_PARTICIPANTS_LINE: Final = re.compile(r"^Participants: .*$", re.MULTILINE)
# Error codes and types from the endpoint are logged only if they look like codes,
# never free text that might quote the request.
_SAFE_CODE: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# RFC 3676's signature separator: the bot's footer, which must survive word for word.
_SIGNATURE: Final = re.compile(r"^-- $", re.MULTILINE)


class _Unusable(Exception):
    """The endpoint gave nothing usable; the message says why (no secrets in it).

    ``answered``: it did answer, with nothing usable (cut off, empty): asking the same
    question again would get the same answer.
    """

    def __init__(self, reason: str, *, answered: bool = False) -> None:
        super().__init__(reason)
        self.answered = answered


# What callers of complete() catch.
EndpointFailed = _Unusable


@dataclass(frozen=True, slots=True)
class _Failure:
    """One failed attempt; ``retry_after`` is None when trying again would not help."""

    reason: str
    retry_after: float | None = None
    answered: bool = False


@dataclass(frozen=True, slots=True)
class _Prompt:
    """What is asked besides the text: the instructions, and how to answer."""

    system: str = SYSTEM_PROMPT
    temperature: float | None = None  # None: the config's
    json_object: bool = False
    # What the answer is called in a log line.
    noun: str = "rewrite"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


async def rewrite_summary(
    text: str,
    config: SummarizerConfig,
    *,
    session: aiohttp.ClientSession | None = None,
    keep: Collection[str] | None = None,
) -> str:
    """``text`` reworded by the endpoint, or ``text`` itself if anything goes wrong.

    ``keep`` lists strings the rewrite must contain (case and spacing aside); by
    default the concern ids and names found in ``text``. A given ``session`` is
    used and left open; otherwise one is opened and closed for this call.
    """
    body, signature = _split_signature(text)
    if not config.enabled or not body.strip():
        return text
    required = frozenset(keep) if keep is not None else required_terms_in_text(body)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.timeout_seconds
    try:
        async with asyncio.timeout_at(deadline):
            rewritten = await _complete(body, config, session, deadline)
    except TimeoutError:
        return _fall_back(text, f"no answer within {config.timeout_seconds:g} s")
    except _Unusable as problem:
        return _fall_back(text, str(problem))
    except Exception as error:
        # The ledger must not depend on this adapter, even through a bug in it. Only the
        # type is logged: an exception's text is not ours to vouch for.
        return _fall_back(text, f"unexpected {type(error).__name__}")
    missing = missing_terms(rewritten, required)
    if missing:
        return _fall_back(text, "the rewrite dropped " + ", ".join(missing))
    return f"{rewritten}\n\n{signature}" if signature else rewritten


async def complete(
    system: str,
    user: str,
    config: SummarizerConfig,
    *,
    session: aiohttp.ClientSession | None = None,
    temperature: float | None = None,
    json_object: bool = False,
) -> str:
    """One answer from the endpoint to ``user`` under ``system`` instructions, within
    ``config.timeout_seconds`` (one retry after a 429, a 5xx or a dropped connection).

    Raises :class:`EndpointFailed`, whose message says why and holds no secret.
    ``json_object`` asks for OpenAI's JSON mode (``response_format``), which Ollama,
    llama.cpp and vLLM honour too.
    """
    prompt = _Prompt(system, temperature, json_object, noun="answer")
    deadline = asyncio.get_running_loop().time() + config.timeout_seconds
    try:
        async with asyncio.timeout_at(deadline):
            return await _complete(user, config, session, deadline, prompt)
    except TimeoutError:
        raise _Unusable(f"no answer within {config.timeout_seconds:g} s") from None


def rewrite_summary_sync(
    text: str, config: SummarizerConfig, *, keep: Collection[str] | None = None
) -> str:
    """:func:`rewrite_summary` for the command line, which has no event loop running."""
    if not config.enabled:
        return text  # no event loop for nothing
    return asyncio.run(rewrite_summary(text, config, keep=keep))


def required_terms(summary: Summary) -> frozenset[str]:
    """What a rewrite of ``summary`` must keep: each ``[concern id]`` and each name."""
    concerns = (
        *summary.open_concerns,
        *summary.resolved_concerns,
        *summary.withdrawn_concerns,
    )
    names = [summary.proposer, *(p.name for p in summary.participants)]
    for concern in concerns:
        names.extend(_names_in(concern))
    ids = (f"[{concern.id}]" for concern in concerns)
    return frozenset(term for term in (*ids, *names) if term.strip())


def required_terms_in_text(text: str) -> frozenset[str]:
    """Bracketed concern ids anywhere, and the names where the summary template puts them."""
    terms = set(_CONCERN_ID.findall(text))
    terms.update(_PROPOSER.findall(text))
    terms.update(_RAISER.findall(text))
    terms.update(_SETTLER.findall(text))
    for answerers in _ANSWERERS.findall(text):
        terms.update(answerers.split(", "))
    for line in _PARTICIPANTS_LINE.findall(text):
        terms.update(_PARTICIPANT.findall(line))
    return frozenset(term for term in terms if term.strip())


def missing_terms(rewritten: str, required: Iterable[str]) -> list[str]:
    """The required terms absent from ``rewritten``, sorted; case and spacing are ignored."""
    haystack = _normal(rewritten)
    return sorted(term for term in set(required) if _normal(term) not in haystack)


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


async def _complete(
    text: str,
    config: SummarizerConfig,
    session: aiohttp.ClientSession | None,
    deadline: float,
    prompt: _Prompt | None = None,
) -> str:
    prompt = prompt or _Prompt()
    if session is None:
        async with aiohttp.ClientSession() as own:
            return await _complete_with(own, text, config, deadline, prompt)
    return await _complete_with(session, text, config, deadline, prompt)


async def _complete_with(
    session: aiohttp.ClientSession,
    text: str,
    config: SummarizerConfig,
    deadline: float,
    prompt: _Prompt,
) -> str:
    """One attempt, and one retry if the failure is the kind that passes."""
    request = _request_for(text, config, prompt)
    outcome = await _attempt(session, request)
    if isinstance(outcome, _Failure) and outcome.retry_after is not None:
        remaining = deadline - asyncio.get_running_loop().time()
        if outcome.retry_after >= remaining:
            raise _Unusable(f"{outcome.reason}; retrying would overrun the timeout")
        logger.info("summarizer: %s; retrying in %.1f s", outcome.reason, outcome.retry_after)
        await asyncio.sleep(outcome.retry_after)
        outcome = await _attempt(session, request)
    if isinstance(outcome, _Failure):
        raise _Unusable(outcome.reason, answered=outcome.answered)
    return outcome


@dataclass(frozen=True, slots=True)
class _Request:
    endpoint: str
    headers: dict[str, str]
    body: dict[str, Any]
    # Said after a 401; names the variable, never its value.
    auth_hint: str
    noun: str = "rewrite"


def _request_for(text: str, config: SummarizerConfig, prompt: _Prompt) -> _Request:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    key = _api_key(config.api_key_env)
    if key is None:
        # A local server usually needs no key. One that does answers 401 and we fall
        # back, naming the variable to set.
        hint = f"${config.api_key_env} is not set"
    else:
        headers["Authorization"] = f"Bearer {key}"
        hint = f"the key in ${config.api_key_env} was refused"
    body = _request_body(text, config, prompt)
    return _Request(f"{config.url}/chat/completions", headers, body, hint, prompt.noun)


def _api_key(name: str) -> str | None:
    key = os.environ.get(name, "").strip()
    if not key:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        # aiohttp would refuse the header with an error that may quote it.
        raise _Unusable(f"the API key in ${name} contains spaces or control characters")
    return key


def _request_body(text: str, config: SummarizerConfig, prompt: _Prompt) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": config.model,
        "messages": [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": text},
        ],
        "temperature": config.temperature if prompt.temperature is None else prompt.temperature,
        # max_tokens, not max_completion_tokens: every OpenAI-compatible server reads it.
        "max_tokens": config.max_tokens,
    }
    if prompt.json_object:
        body["response_format"] = {"type": "json_object"}
    return body


async def _attempt(session: aiohttp.ClientSession, request: _Request) -> str | _Failure:
    where = _safe_url(request.endpoint)
    try:
        async with session.post(
            request.endpoint, json=request.body, headers=request.headers
        ) as response:
            if response.status != 200:
                return await _failure_of(response, where, request.auth_hint)
            payload = await response.json(content_type=None)
    except aiohttp.ClientError as error:
        # A dropped connection is as passing as a 502 from a proxy: retry once.
        return _Failure(f"cannot reach {where}: {type(error).__name__}", RETRY_DELAY_SECONDS)
    except ValueError:
        return _Failure(f"{where} answered with malformed JSON")
    return _content_of(payload, where, request.noun)


async def _failure_of(response: aiohttp.ClientResponse, where: str, auth_hint: str) -> _Failure:
    try:
        payload = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        payload = None
    reason = f"HTTP {response.status} from {where}{_error_code(payload)}"
    if response.status == 401:
        return _Failure(f"{reason} ({auth_hint})")
    if response.status == 429:
        return _Failure(reason, _retry_after(response.headers))
    if response.status >= 500:
        return _Failure(reason, RETRY_DELAY_SECONDS)
    return _Failure(reason)  # another 4xx: the same request would fail the same way


def _retry_after(headers: Mapping[str, str]) -> float:
    """Seconds to wait after a 429: OpenAI's retry-after-ms, else Retry-After, capped."""
    for name, scale in (("retry-after-ms", 0.001), ("Retry-After", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue  # an HTTP-date: rare from these APIs, not worth parsing
        if seconds >= 0:
            return min(seconds, MAX_RETRY_AFTER_SECONDS)
    return RETRY_DELAY_SECONDS


def _content_of(payload: object, where: str, noun: str = "rewrite") -> str | _Failure:
    """``choices[0].message.content``, if it is a whole, non-empty answer."""
    choices = payload.get("choices") if isinstance(payload, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        return _Failure(f"{where} answered without choices[0].message", answered=True)
    if choice.get("finish_reason") == "length":
        return _Failure(f"the {noun} was cut off at max_tokens", answered=True)
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        return _Failure(f"{where} answered with an empty {noun}", answered=True)
    return content.strip()


def _error_code(payload: object) -> str:
    """``: <code>`` from OpenAI's ``{"error": {...}}``; not its message: it may quote the key."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return ""
    for field in ("code", "type"):
        value = error.get(field)
        if isinstance(value, str) and _SAFE_CODE.fullmatch(value):
            return f": {value}"
    return ""


def _safe_url(endpoint: str) -> str:
    """The endpoint without credentials or query, fit for a log line."""
    url = URL(endpoint)
    return str(url.with_user(None).with_query(None).with_fragment(None))


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _fall_back(text: str, reason: str) -> str:
    logger.warning("summarizer: %s; keeping the original summary", reason)
    return text


def _split_signature(text: str) -> tuple[str, str]:
    """The text before a ``-- `` line, and the signature from that line on (or "")."""
    separator = _SIGNATURE.search(text)
    if separator is None:
        return text, ""
    return text[: separator.start()], text[separator.start() :]


def _names_in(concern: ConcernLine) -> list[str]:
    names = [concern.raised_by, *concern.answered_by]
    if concern.resolved_by:
        names.append(concern.resolved_by)
    return names


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()
