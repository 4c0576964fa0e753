"""The command line: ``python build.py COMMAND`` (or ``papershelf COMMAND``)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .errors import require_file
from .ingest import enrich as enrichment
from .ingest.fetch import (
    DEFAULT_BASE_URL,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_BYTES,
    fetch_daily_papers,
    request_for,
)
from .ingest.http import Limits
from .outputs import check_site_dir, exclusive_build, site_outputs, site_work_dirs

# The stages are imported by the commands that run them, not here: 'build.py db' then
# loads neither MkDocs nor the site's modules (a tenth of a second of its start-up).
if TYPE_CHECKING:
    from .store.pipeline import BuildResult

DEFAULT_LISTINGS = "content/listings"
DEFAULT_TOPICS = "content/topics.yml"
DEFAULT_DB = "datasets/papers.db"
DEFAULT_METADATA = "datasets/metadata.yml"
# Datasette settings for every way the database is served (serve, CI, publish).
DEFAULT_SETTINGS = "datasets/settings.json"
DEFAULT_SITE = "site"
DEFAULT_DOCS = "build/docs"
DEFAULT_CONFIG = "mkdocs.yml"
DEFAULT_NOTEBOOKS = "notebooks"
DEFAULT_ENRICHMENT = enrichment.DEFAULT_CACHE_DIR


def _progress(items: Iterable, label: str) -> Iterator:
    items = list(items)
    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
        yield from bar


@click.group()
@click.version_option(package_name="papershelf")
def cli() -> None:
    """papershelf: build a research-paper collection into a database and a website."""


def file_option(flag: str, name: str, default: str, help: str):
    """An option naming a file, with its default shown in ``--help``."""
    return click.option(
        flag,
        name,
        default=default,
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=help,
    )


db_option = file_option("--db", "db_path", DEFAULT_DB, "The SQLite database.")


def db_options(command):
    """The options of the database stage, shared by ``db`` and ``all``."""
    for option in reversed(
        [
            click.option(
                "--listings",
                "listings_dir",
                default=DEFAULT_LISTINGS,
                show_default=True,
                type=click.Path(path_type=Path),
                help="Directory of listing files.",
            ),
            click.option(
                "--topics",
                "topics_path",
                default=DEFAULT_TOPICS,
                show_default=True,
                type=click.Path(path_type=Path),
                help="The topics taxonomy (YAML).",
            ),
            click.option(
                "--listings-meta",
                "listing_names_path",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Titles, sources and dates of the listings (YAML; optional file). "
                "[default: listings.yml beside the listings directory: content/listings.yml]",
            ),
            click.option(
                "--enrichment",
                "enrichment_dir",
                default=DEFAULT_ENRICHMENT,
                show_default=True,
                type=click.Path(file_okay=False, path_type=Path),
                help="The cache 'enrich' keeps, read offline (the default may be absent; "
                "a named directory must exist).",
            ),
            db_option,
            click.option(
                "--year", type=int, help="Year of dates that show none (default: inferred)."
            ),
            click.option("--strict", is_flag=True, help="Treat warnings as errors."),
        ]
    ):
        command = option(command)
    return command


def site_options(command):
    """The options of the site stage, shared by ``site`` and ``all``."""
    for option in reversed(
        [
            click.option(
                "--site-dir",
                default=DEFAULT_SITE,
                show_default=True,
                type=click.Path(file_okay=False, path_type=Path),
                help="Where the built site goes.",
            ),
            click.option(
                "--docs-dir",
                default=DEFAULT_DOCS,
                show_default=True,
                type=click.Path(file_okay=False, path_type=Path),
                help="Where the generated Markdown pages go (not hand-edited).",
            ),
            click.option(
                "--config",
                "config_file",
                default=DEFAULT_CONFIG,
                show_default=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="The MkDocs configuration.",
            ),
        ]
    ):
        command = option(command)
    return command


@cli.command()
@db_options
def db(
    listings_dir: Path,
    topics_path: Path,
    listing_names_path: Path,
    enrichment_dir: Path,
    db_path: Path,
    year: int | None,
    strict: bool,
):
    """Parse the listings and the enrichment cache into the SQLite database.

    Written atomically; the cache (content/enrichment/, from 'enrich') is read offline."""
    with exclusive_build([db_path]):
        result = run_db(
            listings_dir, topics_path, db_path, year, strict, listing_names_path, enrichment_dir
        )
    _summarise(result)


def run_db(
    listings_dir,
    topics_path,
    db_path,
    year,
    strict,
    listing_names_path=None,
    enrichment_dir: Path | None = None,
    config_file: Path = Path(DEFAULT_CONFIG),
) -> BuildResult:
    from .publish.site_url import read_site_url
    from .store.pipeline import build_database

    # The database records where the site is published (page_url), from the same
    # configuration the site stage reads.
    site_url = read_site_url(config_file) if config_file.is_file() else ""
    return build_database(
        listings_dir,
        topics_path,
        db_path,
        year=year,
        strict=strict,
        progress=_progress,
        listing_names_path=listing_names_path,
        site_url=site_url,
        enrichment_dir=_enrichment_dir(enrichment_dir),
    )


def _enrichment_dir(directory: Path | None) -> Path | None:
    """The enrichment directory: the default may be absent, a named one must exist."""
    context = click.get_current_context(silent=True)
    source = context.get_parameter_source("enrichment_dir") if context else None
    named = source not in (None, click.core.ParameterSource.DEFAULT)
    if named and directory is not None and not directory.is_dir():
        raise click.ClickException(f"{directory}: no such enrichment directory")
    return directory


@cli.command()
@db_option
@site_options
def site(db_path: Path, site_dir: Path, docs_dir: Path, config_file: Path):
    """Render the pages from the database and build the site with MkDocs."""
    check_site_dir(site_dir, _kept_from_the_site(db_path, docs_dir, config_file))
    with exclusive_build([*site_outputs(site_dir), docs_dir], site_work_dirs(docs_dir)):
        run_site(db_path, site_dir, docs_dir, config_file)


@cli.command(name="all")
@db_options
@site_options
def all_(
    listings_dir: Path,
    topics_path: Path,
    listing_names_path: Path,
    enrichment_dir: Path,
    db_path: Path,
    year: int | None,
    strict: bool,
    site_dir: Path,
    docs_dir: Path,
    config_file: Path,
):
    """Build everything: the database, then the site."""
    kept = _kept_from_the_site(db_path, docs_dir, config_file, listings_dir, topics_path)
    check_site_dir(site_dir, kept)
    with exclusive_build([db_path, *site_outputs(site_dir), docs_dir], site_work_dirs(docs_dir)):
        result = run_db(
            listings_dir,
            topics_path,
            db_path,
            year,
            strict,
            listing_names_path,
            enrichment_dir,
            config_file,
        )
        _summarise(result)
        run_site(db_path, site_dir, docs_dir, config_file)


def _kept_from_the_site(db_path: Path, docs_dir: Path, config_file: Path, *sources) -> list:
    """What the site folder must not be or hold: the project's sources (the defaults too,
    which the site stage reads or the notebooks do), its pages and its database."""
    defaults = (DEFAULT_LISTINGS, DEFAULT_TOPICS, DEFAULT_METADATA, DEFAULT_NOTEBOOKS, ".git")
    return [db_path, docs_dir, config_file, *sources, *map(Path, defaults)]


def run_site(db_path: Path, site_dir: Path, docs_dir: Path, config_file: Path) -> None:
    from .publish.site import build_site

    click.echo("Building the site with MkDocs…", err=True)
    result = build_site(
        db_path, site_dir, docs_dir, config_file, Path(DEFAULT_METADATA), Path(DEFAULT_NOTEBOOKS)
    )
    render = result.render
    click.echo(
        f"Wrote {site_dir}: {result.html_pages} HTML pages from {render.pages} Markdown pages "
        f"({len(render.written)} files changed, {render.unchanged} unchanged, "
        f"{len(render.removed)} removed; MkDocs "
        f"{'rebuilt only the changed pages' if result.incremental else 'built every page'})."
    )


@cli.command()
@click.option(
    "--site-dir",
    default=DEFAULT_SITE,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The built site.",
)
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def preview(site_dir: Path, port: int):
    """Serve the built site on 127.0.0.1 to look at it locally."""
    if not (site_dir / "index.html").exists():
        raise click.ClickException(f"{site_dir}: no built site; run 'python build.py all' first")
    click.echo(f"Serving {site_dir} on http://127.0.0.1:{port}/ (Ctrl-C to stop)", err=True)
    command = [sys.executable, "-m", "http.server", str(port), "-b", "127.0.0.1"]
    sys.exit(subprocess.call(command + ["-d", str(site_dir)]))


def network_options(deadline: float, deadline_help: str, max_bytes: int):
    """The limits of every command that asks a server (fetch, enrich): one client, one
    set of options."""
    options = [
        click.option(
            "--retries",
            default=4,
            show_default=True,
            type=click.IntRange(min=0),
            help="Retries of one request on 429, 5xx and network errors.",
        ),
        click.option(
            "--backoff",
            default=1.0,
            show_default=True,
            type=click.FloatRange(min=0),
            help="First retry delay in seconds; doubles.",
        ),
        click.option(
            "--timeout",
            default=30.0,
            show_default=True,
            type=click.FloatRange(min=0, min_open=True),
            help="Seconds to wait for each network operation.",
        ),
        click.option(
            "--deadline",
            default=deadline,
            show_default=True,
            type=click.FloatRange(min=0, min_open=True),
            help=deadline_help,
        ),
        click.option(
            "--max-bytes",
            default=max_bytes,
            show_default=True,
            type=click.IntRange(min=1),
            help="Largest response accepted, in bytes; reading stops as soon as it is passed.",
        ),
    ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@cli.command()
@click.option("--date", help="A day, e.g. 2025-08-14.")
@click.option("--week", help="An ISO week, e.g. 2025-W33.")
@click.option("--month", help="A month, e.g. 2025-08.")
@click.option(
    "--base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="Any server that speaks the daily-papers API.",
)
@click.option(
    "--listings",
    "listings_dir",
    default=DEFAULT_LISTINGS,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the JSON listing is written.",
)
@network_options(
    deadline=DEFAULT_DEADLINE,
    deadline_help="Seconds for the whole fetch, retries and waits included.",
    max_bytes=DEFAULT_MAX_BYTES,
)
def fetch(
    date, week, month, base_url, listings_dir, retries, backoff, timeout, deadline, max_bytes
):
    """Download Hugging Face daily papers into a JSON listing file."""
    kind, value = request_for(date, week, month)
    result = fetch_daily_papers(
        kind,
        value,
        listings_dir,
        base_url=base_url,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        log=lambda message: click.echo(message, err=True),
    )
    if result.path is None:
        click.echo(f"No papers listed for {kind} {value}; nothing written.")
    else:
        verb = "Replaced" if result.replaced else "Wrote"
        click.echo(f"{verb} {result.path}: {result.papers} papers for {kind} {value}.")


@cli.command()
@click.option(
    "--listings",
    "listings_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Take the papers from these listings instead of the database.",
)
@db_option
@click.option(
    "--cache-dir",
    default=enrichment.DEFAULT_CACHE_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the results are kept: one JSON-lines file per source.",
)
@click.option("--limit", type=click.IntRange(min=0), help="Look up at most this many papers.")
@click.option("--only", multiple=True, metavar="SLUG", help="Only this paper (repeatable).")
@click.option(
    "--sources",
    default="hf,arxiv",
    show_default=True,
    help="hf, arxiv or both (arXiv is asked only where Hugging Face has no match).",
)
@click.option("--refresh", is_flag=True, help="Ask again about papers answered before.")
@click.option(
    "--older-than",
    type=click.FloatRange(min=0),
    metavar="DAYS",
    help="Ask again about papers answered more than DAYS days ago.",
)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    help="Seconds between requests to one server. [default: 1 for Hugging Face, 3 for arXiv]",
)
@network_options(
    deadline=enrichment.DEFAULT_DEADLINE,
    deadline_help="Seconds for the whole run; it stops there and keeps what it found.",
    max_bytes=enrichment.DEFAULT_MAX_BYTES,
)
@click.option("--hf-url", default=enrichment.DEFAULT_HF_URL, show_default=True)
@click.option("--arxiv-url", default=enrichment.DEFAULT_ARXIV_URL, show_default=True)
def enrich(listings_dir, db_path, cache_dir, only, **settings):
    """Look papers without an arXiv id up on Hugging Face and arXiv, into a cache."""
    limits = [settings.pop(name) for name in ("retries", "backoff", "timeout", "deadline")]
    limits = Limits(*limits, settings.pop("max_bytes"))
    if listings_dir is not None:
        papers = enrichment.papers_from_listings(listings_dir)
    else:
        papers = enrichment.papers_from_db(db_path)
    options = enrichment.options_from(limits=limits, **settings)
    summary = enrichment.enrich(
        enrichment.select(papers, only),
        cache_dir,
        options,
        progress=_progress,
        log=lambda message: click.echo(message, err=True),
    )
    click.echo(enrichment.describe(summary))


def _summarise(result: BuildResult) -> None:
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if result.uncategorised:
        click.echo("Papers no topic rule matched:", err=True)
        for slug, title in result.uncategorised:
            click.echo(f"  {slug}  {title}", err=True)
    click.echo(
        f"Wrote {result.db_path}: {result.listings} listings, {result.entries} entries, "
        f"{result.papers} papers, {result.topics} topics, "
        f"{len(result.uncategorised)} uncategorised, {len(result.warnings)} warnings"
        + (f", {result.enriched} enriched." if result.enriched else ".")
    )


@cli.command()
@db_option
@click.option(
    "--metadata",
    default=DEFAULT_METADATA,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Datasette metadata: descriptions, facets, canned queries.",
)
@click.option(
    "--settings",
    "settings_file",
    default=DEFAULT_SETTINGS,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Datasette settings (JSON), as CI's check and the README's publish commands use them.",
)
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def serve(db_path: Path, metadata: str, settings_file: Path, port: int, host: str):
    """Serve the database read-only in Datasette."""
    if not db_path.exists():
        raise click.ClickException(f"{db_path}: no such database; run 'python build.py db' first")
    import sqlite_utils

    from .publish.exports import metadata_json

    with tempfile.TemporaryDirectory(prefix="papershelf-serve-") as directory:
        # The metadata for this database: its empty tables hidden (as the site publishes it).
        metadata_file = Path(directory) / "metadata.json"
        with closing(sqlite_utils.Database(db_path)) as db:
            metadata_file.write_text(metadata_json(Path(metadata), db), encoding="utf-8")
        command = [sys.executable, "-m", "datasette", "serve", "--immutable", str(db_path)]
        command += ["--metadata", str(metadata_file), *setting_options(settings_file)]
        command += ["--host", host, "--port", str(port)]
        click.echo(f"Datasette on http://{host}:{port}/ (Ctrl-C to stop)", err=True)
        code = subprocess.call(command)
    sys.exit(code)


def setting_options(settings_file: Path) -> list[str]:
    """``--setting NAME VALUE`` for each entry of a settings file in Datasette's own format
    (the settings.json that ``datasette datasets/`` reads as it is)."""
    try:
        settings = json.loads(settings_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{settings_file}:{error.lineno}: {error.msg}") from None
    if not isinstance(settings, dict):
        raise click.ClickException(f"{settings_file}:1: expected an object of Datasette settings")
    options = []
    for name, value in sorted(settings.items()):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        options += ["--setting", name, text]
    return options


DEFAULT_LABELS = "content/topic-labels.yml"


@cli.group(invoke_without_command=True)
@click.pass_context
def topics(ctx: click.Context) -> None:
    """Measure topic memberships against labels, and propose topics.

    Alone, 'topics' runs 'topics check' with its defaults.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(topics_check)


@topics.command(name="check")
@db_option
@file_option(
    "--labels",
    "labels_path",
    DEFAULT_LABELS,
    "The labelled papers (YAML); without it, only the figures that need no labels.",
)
@click.option(
    "--set",
    "only_set",
    metavar="NAME",
    help="Only the labelled papers of this set (e.g. development: tune without seeing "
    "the held-out papers).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def topics_check(db_path: Path, labels_path: Path, only_set: str | None, as_json: bool):
    """Print precision, recall and what explains them.

    From the database and the labels: precision and recall (overall, per topic, per labelled
    set), primary-topic accuracy, topics per paper, papers with no topic, the rules that fire
    most and how often they are right, near-misses and wrong memberships.
    """
    import dataclasses
    import json

    from .collection.curation import format_report, measure

    named = click.get_current_context().get_parameter_source("labels_path")
    if named is not click.core.ParameterSource.DEFAULT and not labels_path.exists():
        # Only the default file may be absent: a named one that is not there is a typo.
        raise click.ClickException(f"{labels_path}: no such labels file")
    report, warnings = measure(db_path, labels_path, only_set=only_set)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if as_json:
        figures = dataclasses.asdict(report) | {"no_topic_share": report.no_topic_share}
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report), nl=False)


@topics.command(name="agree")
@click.argument("second_path", metavar="SECOND", type=click.Path(dir_okay=False, path_type=Path))
@file_option(
    "--labels",
    "first_path",
    DEFAULT_LABELS,
    "The first reading: the labels 'topics check' measures against.",
)
@file_option(
    "--topics", "topics_path", DEFAULT_TOPICS, "The taxonomy the labels' topics must belong to."
)
@file_option(
    "--db",
    "db_path",
    DEFAULT_DB,
    "The database the engine is measured in (the default may be absent).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def topics_agree(second_path: Path, first_path: Path, topics_path: Path, db_path, as_json):
    """Print how far a second reading of the labels agrees with the first.

    On the papers both files label: precision and recall of SECOND's memberships against
    the first's (overall and per set of the first), topics per paper, primary-topic and
    exact-set agreement, the papers labelled differently, and the engine's precision and
    recall against each reading when the database is there.
    """
    import dataclasses
    import json

    from .collection.curation import agree, format_agreement, has_topic_scores
    from .collection.topics import load_topics

    require_file(topics_path)
    known = {topic.slug for topic in load_topics(topics_path)}
    named = click.get_current_context().get_parameter_source("db_path")
    # A named database must be measurable; the default one is used only when it is.
    if named is click.core.ParameterSource.DEFAULT and not has_topic_scores(db_path):
        db_path = None
    agreement = agree(first_path, second_path, known, db_path)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(agreement), indent=2, ensure_ascii=False))
    else:
        click.echo(format_agreement(agreement), nl=False)


@topics.command(name="suggest")
@db_option
@file_option(
    "--topics", "topics_path", DEFAULT_TOPICS, "The taxonomy; proposed slugs avoid its slugs."
)
@click.option(
    "--groups",
    type=click.IntRange(min=1),
    help="How many topics to propose (default: one per 3 weak papers, at most 8).",
)
@click.option(
    "--min-score",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help=(
        "A paper whose best topic scores below this is reached only weakly. At the "
        "default, no threshold being lower, only the papers in no topic; 1.5 adds those "
        "a topic barely reaches."
    ),
)
def topics_suggest(db_path: Path, topics_path: Path, groups: int | None, min_score: float):
    """Propose topics for the papers no topic reaches or reaches weakly.

    Groups those papers by TF-IDF and NMF over title and abstract (deterministic) and prints
    each group as a ready-to-edit entry of content/topics.yml.
    """
    from .collection.curation import format_suggestion, suggest
    from .collection.topics import TopicRules, load_topics

    require_file(topics_path)
    topics = load_topics(topics_path)
    existing = {topic.slug for topic in topics}
    suggestion = suggest(db_path, existing, groups, min_score, TopicRules(topics))
    click.echo(format_suggestion(suggestion), nl=False)
