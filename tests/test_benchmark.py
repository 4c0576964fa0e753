"""The benchmark runs at a tiny size and prints every figure (its speed is not tested)."""

import subprocess
import sys

from .conftest import REPO


def test_benchmark_prints_every_figure(tmp_path):
    raw = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/run.py",
            "--sizes",
            "60",
            "--site-max",
            "60",
            "--no-notebooks",
            "--json",
            str(raw),
            "--rounds",
            "1",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for heading in (
        "Database stage",
        "| papers | entries | parse | merge | topics | database | related wait | related own",
        "related process peak MB",
        "Site stage",
        "whole / bare",
        "KB per paper page",
        "bare MkDocs ms per page",
        "Incremental rebuilds",
        "| 60 | first |",
        "| 60 | next |",
        "share of full",
        "| db / sqlite-utils floor | db / sqlite3 floor | db CPU |",
        "| papers | db / sqlite-utils floor | db / sqlite3 floor | incremental / full "
        "| first incremental / full | incremental / full, whole processes "
        "| site / bare MkDocs | whole / bare MkDocs |",
    ):
        assert heading in out, heading
    rows = [line for line in out.splitlines() if line.startswith("| 60 |")]
    assert len(rows) == 6  # one row in each table, two (first, next) in the incremental one
    assert raw.exists() and '"n": 60' in raw.read_text()
    ratios = rows[-1].strip("|").split("|")[1:]
    assert all(float(ratio) > 0 for ratio in ratios), rows[-1]  # every ratio measured
