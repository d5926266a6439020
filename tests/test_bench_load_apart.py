"""The SMTP benchmarks' load kept off the server's cores (``--load-apart``).

On a host of two cores the load generator and `quorum run` took turns on the same
CPUs, and the time to 250 the benchmark reported was partly the load's own wait.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.smtp_load import load_apart, pinned_to

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a platform that pins processes, and two CPUs",
)


def test_the_load_keeps_one_cpu_and_the_server_gets_the_others_then_all_are_back():
    before = os.sched_getaffinity(0)
    with load_apart(True) as server:
        mine = os.sched_getaffinity(0)
        assert len(mine) == 1
        assert server == frozenset(before - mine)
        # As start_quorum starts the server: on the others only.
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
            preexec_fn=pinned_to(server),
            capture_output=True,
            text=True,
            check=True,
        )
        assert child.stdout.strip() == str(sorted(server))
    assert os.sched_getaffinity(0) == before


def test_without_asking_nothing_is_pinned():
    before = os.sched_getaffinity(0)
    with load_apart(False) as server:
        assert server is None
        assert os.sched_getaffinity(0) == before
