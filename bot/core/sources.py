"""What fetching list archives needs to know that is not I/O: months, list names, permalinks.

Archives are fetched a month at a time. A month is *settled* once it was fetched
after it ended (plus a grace period for late mail and slow indexers); a settled
month is never fetched again, so a second ``quorum fetch`` costs next to nothing.
"""

from __future__ import annotations

import base64
import email.parser
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.policy import compat32

from bot.core.mail import normalise_message_id

# The ASF's Pony Mail site, the default of `quorum fetch ponymail`.
PONYMAIL_URL = "https://lists.apache.org"

# Mail arrives late (moderation, retries) and archives index it late: a month is
# fetched once more if the last fetch came sooner than this after it ended.
SETTLE_AFTER = timedelta(days=2)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_LIST_ADDRESS = re.compile(r"^([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")
_HEADERS = email.parser.BytesHeaderParser(policy=compat32)


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, in UTC."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2022-01`` (or ``2022-1``); ValueError naming the expected form otherwise."""
        match = _MONTH.match(text.strip())
        if match is None or not 1 <= int(match[2]) <= 12:
            raise ValueError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2022-01")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, moment: datetime | date) -> Month:
        return cls(moment.year, moment.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    def end(self) -> datetime:
        """The first moment of the next month."""
        return self.next().start()

    def settled_by(self, fetched_at: datetime) -> bool:
        """Whether a fetch at ``fetched_at`` saw the whole month (see SETTLE_AFTER)."""
        return fetched_at >= self.end() + SETTLE_AFTER

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def months(first: Month, last: Month) -> list[Month]:
    """Every month from ``first`` to ``last``, both included (none if last < first)."""
    found = []
    month = first
    while month <= last:
        found.append(month)
        month = month.next()
    return found


@dataclass(frozen=True, slots=True)
class ArchiveId:
    """One mail's id and permalink in an archive."""

    source_id: str
    message_id: str
    url: str


@dataclass(frozen=True, slots=True)
class ListAddress:
    """``dev@tvm.apache.org``: the list's local part and its domain."""

    local: str
    domain: str

    @classmethod
    def parse(cls, text: str) -> ListAddress:
        match = _LIST_ADDRESS.match(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r} is not a list address: write it as name@domain, e.g. dev@tvm.apache.org"
            )
        return cls(match[1].lower(), match[2].lower())

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


def message_id_of(raw: bytes) -> str | None:
    """The normalised Message-ID of raw mail, reading its headers only."""
    value = _HEADERS.parsebytes(raw, headersonly=True).get("Message-ID")
    message_id, _ = normalise_message_id(None if value is None else str(value))
    return message_id


def hyperkitty_hash(message_id: str) -> str:
    """HyperKitty's ``message_id_hash``: base32 of the SHA-1 of the id without its <>."""
    digest = hashlib.sha1(message_id.strip().strip("<>").encode("utf-8")).digest()  # noqa: S324
    return base64.b32encode(digest).decode("ascii")


def bare_id(message_id: str) -> str:
    return message_id.strip().strip("<>")
