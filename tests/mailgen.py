"""Building raw test messages: small, explicit, and readable in the test that uses them."""

from __future__ import annotations

from datetime import UTC, datetime

ARRIVAL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def raw_mail(
    body: str = "Hello.\n",
    *,
    subject: str = "Hello",
    message_id: str | None = "<m1@example.org>",
    sender: str = "Alice Archer <alice@example.org>",
    to: str = "dev@lists.example.org",
    date: str | None = "Mon, 02 Nov 2026 09:14:00 +0000",
    extra: str = "",
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    headers = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    if date is not None:
        headers.append(f"Date: {date}")
    if message_id is not None:
        headers.append(f"Message-ID: {message_id}")
    headers.append(f"Content-Type: {content_type}")
    if extra:
        headers.extend(extra.strip("\n").split("\n"))
    return ("\n".join(headers) + "\n\n" + body).encode("utf-8")
