"""Where the shared real-data corpus is, and what to do when it is missing.

Tests that read ``../shared/corpus`` call :func:`corpus_path`. Outside CI a
missing corpus skips those tests with a reason; with ``QUORUM_REQUIRE_CORPUS=1``
(set by ``.ci/run``) it fails them, so they can never skip silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def corpus_path(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if path.exists():
        return path
    message = f"real corpus not found at {path}"
    if os.environ.get("QUORUM_REQUIRE_CORPUS") == "1":
        pytest.fail(f"{message} (QUORUM_REQUIRE_CORPUS=1)", pytrace=False)
    pytest.skip(message)
