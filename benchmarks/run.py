"""Benchmark the papershelf pipeline on synthetic collections and print the figures.

    python benchmarks/run.py                         # N = 1,000, 10,000 and 100,000
    python benchmarks/run.py --sizes 200 --site-max 200 --no-notebooks   # a quick check

For every N it writes synthetic listings (``benchmarks/synthetic.py``) to a temporary
directory and measures, each N in fresh processes so that peak memory is its own:

- the database stage (``build.py db``): seconds per step (parse, merge, topics, related,
  database incl. full-text search), the peak memory after each, papers per second and
  the database's size;
- for N up to ``--site-max``: page generation, notebook execution and the MkDocs build
  (``build.py site``), the size of ``site/`` per page and of a paper page, and a bare
  ``mkdocs build`` of the same generated pages, to give the ratio of the whole pipeline
  to MkDocs alone;
- two incremental rebuilds, each one more listing of 100 new papers, then ``db`` and
  ``site`` again, as a share of the full build: the first after the full build, the next
  after the first, as a daily build follows an incremental one (it starts from the site
  the first replaced, which shares its unchanged files with the current one);
- the floor (``benchmarks/floor.py``): the same listings parsed, merged and written by a
  plain script with sqlite-utils ``insert_all`` and ``enable_fts``, and with the
  ``sqlite3`` module alone. ``build.py db`` and the two floors run as whole processes,
  start-up included, in ``--rounds`` alternating rounds; each ratio is the median of the
  rounds' ratios, so that a machine whose speed drifts still gives comparable figures.

Ratios (database stage / floor, incremental / full, site / bare MkDocs) are printed
beside the seconds: they, rather than the seconds, compare across machines. Incremental /
full is of the stages' own seconds, and also of their processes' wall time (start-up and
exit included, as a user waits for them).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from synthetic import write_corpus  # noqa: E402

DB_STAGE = """
import json, sys
from pathlib import Path
from papershelf.store.pipeline import build_database
result = build_database(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
print(json.dumps({"seconds": result.seconds, "peak_mb": result.peak_mb,
                  "related_seconds": result.related_seconds,
                  "related_peak_mb": result.related_peak_mb,
                  "papers": result.papers, "entries": result.entries}))
"""

SITE_STAGE = """
import json, sys
from pathlib import Path
from papershelf.publish.site import build_site
db, root, config, metadata, notebooks = sys.argv[1:6]
result = build_site(Path(db), Path(root) / "site", Path(root) / "docs", Path(config),
                    Path(metadata), Path(notebooks) if notebooks != "-" else None,
                    Path(root) / "cache")
print(json.dumps({"seconds": {**result.render.seconds, "mkdocs": result.mkdocs_seconds},
                  "written": len(result.render.written), "pages": result.html_pages}))
"""

BARE_MKDOCS = """
import json, sys, time, logging
from mkdocs.commands.build import build
from mkdocs.config import load_config
docs, site, config = sys.argv[1:4]
logging.getLogger("mkdocs").setLevel(logging.ERROR)
cfg = load_config(config_file=config, docs_dir=docs, site_dir=site)
started = time.perf_counter()
build(cfg)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def run(code: str, *args: str) -> dict:
    """The figures a step prints, and ``process_seconds``: its whole process's wall time
    (start-up and exit included, which the step's own seconds leave out)."""
    command = [sys.executable, "-c", code, *map(str, args)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_seconds": wall}


def whole_process(command: list[str]) -> dict:
    """Wall and CPU seconds (user + system, its children included) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"benchmark step failed: {command}\n{done.stderr[-3000:]}")
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
    return {"wall": wall, "cpu": cpu}


def against_floor(listings: Path, topics: Path, work: Path, rounds: int) -> dict:
    """``build.py db`` and the two floors in alternating rounds: the median seconds of
    each, and the median of the rounds' ratios."""
    commands = {
        "db": [sys.executable, "build.py", "db", "--listings", str(listings), "--topics",
               str(topics), "--db", str(work / "floor-check.db")],
        "floor": [sys.executable, "benchmarks/floor.py", str(listings), str(work / "floor.db")],
        "raw": [sys.executable, "benchmarks/floor.py", str(listings), str(work / "raw.db"),
                "--raw"],
    }  # fmt: skip
    runs = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            runs[name].append(whole_process(command))
    figures: dict = {
        f"{name}_{kind}": statistics.median(run[kind] for run in runs[name])
        for name in commands
        for kind in ("wall", "cpu")
    }
    for floor in ("floor", "raw"):
        for kind in ("wall", "cpu"):
            figures[f"db_{floor}_{kind}_ratio"] = statistics.median(
                db[kind] / other[kind] for db, other in zip(runs["db"], runs[floor], strict=True)
            )
    return figures


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def benchmark(n: int, work: Path, site_max: int, notebooks: bool, rounds: int) -> dict:
    listings = work / "listings"
    started = time.perf_counter()
    corpus = write_corpus(listings, n)
    row: dict = {"n": n, "corpus": corpus, "generate_s": time.perf_counter() - started}
    topics, config = REPO / "content" / "topics.yml", REPO / "mkdocs.yml"
    metadata, notebooks_dir = REPO / "datasets" / "metadata.yml", REPO / "notebooks"
    db = work / "papers.db"

    stage = run(DB_STAGE, listings, topics, db)
    row["db"] = stage
    row["db_mb"] = db.stat().st_size / 1e6
    if rounds:
        row["floor"] = against_floor(listings, topics, work, rounds)
    if n > site_max:
        return row

    site = run(SITE_STAGE, db, work, config, metadata, notebooks_dir if notebooks else "-")
    row["site"] = site
    pages = sorted((work / "site" / "papers").glob("*/index.html"))
    row["site_mb"] = size_mb(work / "site")
    row["html_pages"] = site["pages"]
    row["paper_page_kb"] = sum(p.stat().st_size for p in pages) / len(pages) / 1e3
    chunks = list((work / "site" / "pagefind").glob("*/index/*.pf_index"))  # of every bundle
    row["pagefind_chunk_kb"] = max((c.stat().st_size for c in chunks), default=0) / 1e3
    row["bare"] = run(BARE_MKDOCS, work / "docs", work / "bare-site", config)

    # Incremental: one more listing of 100 new papers, then db and site again; twice.
    row["incremental"], row["incremental_next"] = (
        add_listing(listings, k, n + 100 * k, topics, db, work, notebooks) for k in range(2)
    )
    return row


def add_listing(
    listings: Path, k: int, first: int, topics: Path, db: Path, work: Path, notebooks: bool
) -> dict:
    """The ``k``-th more listing, of 100 new papers numbered from ``first``; then db and
    site."""
    write_corpus(
        listings,
        100,
        per_listing=100,
        repeat_share=0.0,
        seed=1 + k,
        first_index=first,
        prefix=f"zz_new{k}",
    )
    config, metadata = REPO / "mkdocs.yml", REPO / "datasets" / "metadata.yml"
    notebooks_dir = REPO / "notebooks" if notebooks else "-"
    return {
        "db": run(DB_STAGE, listings, topics, db),
        "site": run(SITE_STAGE, db, work, config, metadata, notebooks_dir),
    }


def print_table(rows: list[dict]) -> None:
    print(
        f"\nMachine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"Python {platform.python_version()}, {shutil.os.cpu_count()} cores\n"
    )
    steps = ["parse", "merge", "topics", "database", "related"]
    print(
        "Database stage (seconds; related papers are computed in a second process beside "
        "topics and the writes: 'related wait' is the time the build waits for them, "
        "'related own' their own time; peak memory is each process's high-water mark)\n"
    )
    print(
        "| papers | entries | parse | merge | topics | database | related wait | related own "
        "| total | papers/s | peak MB | related process peak MB | db MB |"
    )
    print("|" + " ---: |" * 13)
    for row in rows:
        stage = row["db"]
        s, peak = stage["seconds"], stage["peak_mb"]
        total = sum(s.values())
        print(
            f"| {row['n']:,} | {row['corpus']['entries']:,} | "
            + " | ".join(f"{s.get(k, 0.0):.2f}" for k in steps)
            + f" | {stage['related_seconds']:.2f} | {total:.1f} | {row['n'] / total:,.0f} "
            f"| {max(peak.values()):,.0f} | {stage['related_peak_mb']:,.0f} "
            f"| {row['db_mb']:.1f} |"
        )
    print_floor(rows)
    print_site(rows)
    print_ratios(rows)


def print_floor(rows: list[dict]) -> None:
    floor_rows = [row for row in rows if "floor" in row]
    if not floor_rows:
        return
    print(
        "\nAgainst the floor (benchmarks/floor.py): whole processes, start-up included; "
        "median seconds of the alternating rounds, and the median of their ratios\n"
    )
    print(
        "| papers | build.py db | sqlite-utils floor | sqlite3 floor | db / sqlite-utils floor "
        "| db / sqlite3 floor | db CPU | sqlite-utils floor CPU | CPU db / sqlite-utils floor |"
    )
    print("|" + " ---: |" * 9)
    for row in floor_rows:
        f = row["floor"]
        print(
            f"| {row['n']:,} | {f['db_wall']:.2f} | {f['floor_wall']:.2f} | {f['raw_wall']:.2f} "
            f"| {f['db_floor_wall_ratio']:.2f} | {f['db_raw_wall_ratio']:.2f} | {f['db_cpu']:.2f} "
            f"| {f['floor_cpu']:.2f} | {f['db_floor_cpu_ratio']:.2f} |"
        )


def _site_ratios(row: dict) -> tuple[float, ...]:
    """Incremental / full build (the next incremental build, then the first; then the
    next as whole processes), site stage / bare MkDocs, whole build / bare MkDocs."""
    site = sum(row["site"]["seconds"].values())
    full = sum(row["db"]["seconds"].values()) + site
    bare = row["bare"]["seconds"]
    following, first = (_seconds(row[key]) / full for key in ("incremental_next", "incremental"))
    processes = _process_seconds(row["incremental_next"]) / _process_seconds(row)
    return following, first, processes, site / bare, full / bare


def _seconds(rebuild: dict) -> float:
    return sum(rebuild["db"]["seconds"].values()) + sum(rebuild["site"]["seconds"].values())


def _process_seconds(build: dict) -> float:
    """The wall time of a build's two processes (database, then site)."""
    return build["db"]["process_seconds"] + build["site"]["process_seconds"]


def print_ratios(rows: list[dict]) -> None:
    print("\nRatios (compare these across machines)\n")
    print(
        "| papers | db / sqlite-utils floor | db / sqlite3 floor | incremental / full "
        "| first incremental / full | incremental / full, whole processes "
        "| site / bare MkDocs | whole / bare MkDocs |"
    )
    print("|" + " ---: |" * 8)
    for row in rows:
        f = row.get("floor")
        floor = f"{f['db_floor_wall_ratio']:.2f} | {f['db_raw_wall_ratio']:.2f}" if f else "— | —"
        site = " | ".join(f"{r:.2f}" for r in _site_ratios(row)) if "site" in row else None
        site = site or " | ".join(["—"] * 5)
        print(f"| {row['n']:,} | {floor} | {site} |")


def print_site(rows: list[dict]) -> None:
    site_rows = [row for row in rows if "site" in row]
    if not site_rows:
        return
    print("\nSite stage (seconds)\n")
    print(
        "| papers | HTML pages | pages | notebooks | mkdocs | bare mkdocs | whole build.py all "
        "| whole / bare | pages / mkdocs | site MB | KB per page | KB per paper page "
        "| largest Pagefind chunk KB | bare MkDocs ms per page |"
    )
    print("|" + " ---: |" * 14)
    for row in site_rows:
        s = row["site"]["seconds"]
        whole = sum(row["db"]["seconds"].values()) + sum(s.values())
        bare = row["bare"]["seconds"]
        print(
            f"| {row['n']:,} | {row['html_pages']:,} | {s['pages']:.1f} | "
            f"{s.get('notebooks', 0):.1f} | {s['mkdocs']:.1f} | {bare:.1f} | {whole:.1f} | "
            f"{whole / bare:.2f} | {s['pages'] / s['mkdocs']:.1%} | {row['site_mb']:.1f} | "
            f"{row['site_mb'] * 1e3 / row['html_pages']:.1f} | {row['paper_page_kb']:.1f} | "
            f"{row['pagefind_chunk_kb']:.1f} | {bare * 1e3 / row['html_pages']:.1f} |"
        )
    print(
        "\nIncremental rebuilds: one more listing of 100 new papers each, the first after "
        "the full build, the next after the first (seconds)\n"
    )
    print("| papers | rebuild | db | site | pages rewritten | total | full build | share of full |")
    print("|" + " ---: |" * 8)
    for row in site_rows:
        full = sum(row["db"]["seconds"].values()) + sum(row["site"]["seconds"].values())
        for name, key in (("first", "incremental"), ("next", "incremental_next")):
            rebuild = row[key]
            db_s = sum(rebuild["db"]["seconds"].values())
            site_s = sum(rebuild["site"]["seconds"].values())
            print(
                f"| {row['n']:,} | {name} | {db_s:.1f} | {site_s:.1f} | "
                f"{rebuild['site']['written']:,} | {db_s + site_s:.1f} | {full:.1f} | "
                f"{(db_s + site_s) / full:.0%} |"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated N")
    parser.add_argument("--site-max", type=int, default=10000, help="largest N for the site")
    parser.add_argument("--no-notebooks", action="store_true", help="skip notebook execution")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="alternating rounds of build.py db and the floors (0: no floor)",
    )
    args = parser.parse_args(argv)
    rows = []
    for n in (int(size) for size in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"papershelf-bench-{n}-") as work:
            print(f"N = {n:,} …", file=sys.stderr, flush=True)
            rows.append(benchmark(n, Path(work), args.site_max, not args.no_notebooks, args.rounds))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
