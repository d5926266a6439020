"""A longer, bounded fuzz run of the properties in tests/test_properties.py.

Run: .venv/bin/python -m bench.fuzz [--examples 20000] [--seed 0]

Each target is a hypothesis property (arbitrary bytes and mutated real
messages for parse_mail; arbitrary and vocabulary-rich text for parse_ballot
and parse_commands; random cuts of the SMTP data for the endpoint's reader),
run with many more examples than the test suite affords. The cases of issue 15
are among the inputs: forged display names, raw UTF-8 headers, References past
every bound and an out-of-office reply are seeds that parse_mail's mutations start
from (``tests.test_properties.HOSTILE_MESSAGES``, whose bounds it checks too);
archives gzipped and cut short or corrupted feed the importer's reader; and text
with escape sequences what the CLI prints. Prints how many
inputs each target tried, how long it took, and the smallest failing input
hypothesis found, if any. Seeded: the same seed tries the same inputs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from tests import test_properties as props

Row = tuple[str, str, str]


@dataclass
class FuzzResult:
    target: str
    tried: int
    seconds: float
    failure: str | None


def _read_data_check(case: tuple[list[bytes], list[int], int | None]) -> None:
    lines, cuts, limit = case
    message, wire = props.on_the_wire(lines)
    data = asyncio.run(props.read_in_pieces(wire, cuts, limit))
    expected = None if limit and len(wire) - 3 > limit else message
    assert data == expected, f"read {data!r}, expected {expected!r}"


TARGETS: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], None]]] = {
    "parse_mail": (props.mail_bytes, props.check_parse_mail),
    "parse_ballot": (props.prose, props.check_parse_ballot),
    "parse_commands": (props.prose, props.check_parse_commands),
    "read_messages (damaged archives)": (props.damaged_archives, props.check_read_archive),
    "terminal safe_text": (props.prose, props.check_safe_text),
    "smtp read_data": (
        st.tuples(
            st.lists(props._LINE, max_size=60),
            st.lists(st.integers(0, 10_000), max_size=20),
            st.one_of(st.none(), st.integers(0, 1200)),
        ),
        _read_data_check,
    ),
}


def fuzz(name: str, examples: int, seed: int) -> FuzzResult:
    """Run one target for ``examples`` inputs (fewer if hypothesis runs out of new ones)."""
    strategy, check = TARGETS[name]
    tried = 0

    def counted(value: Any) -> None:
        nonlocal tried
        tried += 1
        check(value)

    test = settings(
        max_examples=examples,
        deadline=None,
        database=None,  # a fresh, seeded run: nothing replayed from earlier ones
        derandomize=False,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(counted))
    test = fixed_seed(seed)(test)
    started = time.perf_counter()
    failure = None
    try:
        test()
    except Exception as error:
        failure = "".join(traceback.format_exception_only(error)).strip()
    return FuzzResult(name, tried, time.perf_counter() - started, failure)


def run(examples: int, seed: int) -> list[FuzzResult]:
    return [fuzz(name, examples, seed) for name in TARGETS]


def rows(quick: bool) -> list[Row]:
    """For `make bench`: inputs tried per target and whether any failed.

    A new seed every time, so every run looks somewhere new; the seed is in the
    table, and ``--seed`` replays exactly that run.
    """
    seed = random.SystemRandom().randrange(2**32)
    results = run(1_000 if quick else 10_000, seed=seed)
    return [
        (
            f"fuzz {r.target}",
            f"{r.tried:,} inputs in {r.seconds:.0f} s (seed {seed})",
            "no failure" if r.failure is None else f"FAILED: {' '.join(r.failure.split())}",
        )
        for r in results
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    failed = False
    for result in run(args.examples, args.seed):
        print(f"{result.target}: {result.tried:,} inputs in {result.seconds:.1f} s", end="")
        if result.failure is None:
            print(", no failure")
        else:
            failed = True
            print(f"\n  FAILED (shrunk): {result.failure}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
