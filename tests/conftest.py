from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import corpus_path


@pytest.fixture
def corpus() -> Path:
    """The root of ../shared/corpus (skips, or fails under QUORUM_REQUIRE_CORPUS=1)."""
    return corpus_path()
