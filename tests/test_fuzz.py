"""The mutation fuzzer (tests/fuzzing.py) run in the suite.

A few hundred cases by default; ``PAPERSHELF_FUZZ_CASES=5000`` (and ``PAPERSHELF_FUZZ_SEED``)
for more. A failure names the seed, the case, the mutation and how to rebuild it.
"""

from __future__ import annotations

import os

import pytest

from .fuzzing import DEFAULT_CASES, MUTATIONS, make_case, run

CASES = int(os.environ.get("PAPERSHELF_FUZZ_CASES", DEFAULT_CASES))
SEED = int(os.environ.get("PAPERSHELF_FUZZ_SEED", "1"))


def test_mutated_listings_build_or_fail_with_file_and_line(tmp_path):
    report = run(SEED, CASES, tmp_path, out=tmp_path / "failures")
    print(report.summary())
    if report.failures:
        pytest.fail(report.describe_failures(), pytrace=False)


def test_a_case_is_the_same_bytes_from_its_seed_and_number():
    assert [make_case(7, n).data for n in range(20)] == [make_case(7, n).data for n in range(20)]
    assert make_case(7, 0).data != make_case(8, 0).data


def test_the_default_run_tries_every_mutation():
    tried = {name for n in range(DEFAULT_CASES) for name in make_case(1, n).mutations}
    assert tried == {mutation.name for mutation in MUTATIONS}
