"""The topic stage against the engine it replaced, on the same papers in one process.

    python benchmarks/topics.py                      # N = 10,000, 5 rounds
    python benchmarks/topics.py --sizes 10000,100000 --rounds 3

Issue 13 asks that weighing evidence make the benchmark's topic stage no slower than
the first-match engine before it. This script measures both on the same synthetic
papers (``benchmarks/synthetic.py``): the old engine is read from git (its module at
``OLD_ENGINE``), the new one is this checkout's. Each round runs old, then new, building
the rules and matching every paper as the database stage does: with the cycle collector
off (``_no_cyclic_gc`` in papershelf/store/pipeline.py) and a chunk of papers' results
kept at a time (``MATCH_CHUNK`` in papershelf/store/database.py). ``--collector`` and
``--keep-all`` measure instead with the collector on and every result kept, as this
script did before the stage worked so. The figures are CPU seconds of this process
(``time.process_time``), so that other processes on a shared machine weigh less on
them. The old engine is given the same rules (``a | b`` spellings as separate rules; it
had no exclusions), so it does the same matching work.

It prints, per N, the minimum and the median over the rounds and the median of the
per-round ratios new / old (pairing keeps a ratio meaningful when the machine's speed
drifts). ``--check`` also asserts that ``match`` and ``match_with_regexes`` agree on the
first 500 papers.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from synthetic import make_paper  # noqa: E402

from papershelf.collection import topics  # noqa: E402
from papershelf.store.database import MATCH_CHUNK  # noqa: E402

# The last commit with the first-match engine (papershelf/topics.py), before evidence.
OLD_ENGINE = "c6e7fe07873536f5258ed41d60780365149b20f7"
TOPICS = REPO / "content" / "topics.yml"


def old_engine() -> types.ModuleType:
    """The first-match engine's module, read from git."""
    source = subprocess.run(
        ["git", "show", f"{OLD_ENGINE}:papershelf/topics.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("papershelf.old_topics")
    module.__package__ = "papershelf"  # its `from .errors import …`
    sys.modules[module.__name__] = module
    exec(compile(source, "old papershelf/topics.py", "exec"), module.__dict__)
    return module


def papers(n: int, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [make_paper(rng, index) for index in range(n)]


def timed(make_rules, texts: list[tuple[str, str]], collector: bool, chunk: int) -> float:
    """CPU seconds to build the rules and match every paper, ``chunk`` papers at a time:
    a chunk's results are kept until the next chunk's replace them (the last ones are
    dropped after the clock stops). ``collector``: the cycle collector on."""
    gc.collect()
    if not collector:
        gc.disable()
    try:
        started = time.process_time()
        rules = make_rules()
        for start in range(0, len(texts), chunk):
            results = [
                rules.match(title, abstract) for title, abstract in texts[start : start + chunk]
            ]
        seconds = time.process_time() - started
    finally:
        gc.enable()
    del results
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated N")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="fast matcher == regexes")
    parser.add_argument(
        "--collector", action="store_true", help="the cycle collector on (the stage has it off)"
    )
    parser.add_argument(
        "--keep-all", action="store_true", help="keep every result (the stage keeps a chunk)"
    )
    args = parser.parse_args()

    old = old_engine()
    taxonomy = topics.load_taxonomy(TOPICS)
    old_topics = [
        old.Topic(
            t.slug,
            t.name,
            t.description,
            tuple(a for rule in t.rules for a in topics.alternatives(rule)),
            t.position,
        )
        for t in taxonomy.topics
    ]
    print("| papers | old engine s (min / median) | new engine s (min / median) | new / old |")
    print("| ---: | ---: | ---: | ---: |")
    for n in (int(size) for size in args.sizes.split(",")):
        texts = papers(n)
        if args.check:
            rules = topics.TopicRules(taxonomy.topics)
            for title, abstract in texts[:500]:
                assert rules.match(title, abstract) == rules.match_with_regexes(title, abstract)
        seconds: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(args.rounds):
            for engine, make_rules in (
                ("old", lambda: old.TopicRules(old_topics)),
                ("new", lambda: topics.TopicRules(taxonomy.topics)),
            ):
                chunk = len(texts) if args.keep_all else MATCH_CHUNK
                seconds[engine].append(timed(make_rules, texts, args.collector, chunk))
        ratios = [a / b for a, b in zip(seconds["new"], seconds["old"], strict=True)]
        old_s, new_s = seconds["old"], seconds["new"]
        print(
            f"| {n:,} | {min(old_s):.2f} / {statistics.median(old_s):.2f} "
            f"| {min(new_s):.2f} / {statistics.median(new_s):.2f} "
            f"| {statistics.median(ratios):.2f} |"
        )


if __name__ == "__main__":
    main()
