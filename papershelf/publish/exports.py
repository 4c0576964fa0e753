"""The site's downloads: the database itself, its Datasette metadata, and every paper
with its topics as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from contextlib import closing
from pathlib import Path

import sqlite_utils
import yaml

from ..store.schema import data_tables
from .writer import PageWriter

# Where the downloads are published, under the site's root.
DOWNLOADS = "downloads"


def write_downloads(writer: PageWriter, db_path: Path, metadata_path: Path | None) -> None:
    """Write ``papers.db``, ``metadata.json`` (when ``metadata_path`` exists), ``papers.csv``
    and ``papers.json`` under :data:`DOWNLOADS`."""
    writer.copy(f"{DOWNLOADS}/papers.db", db_path)
    with closing(sqlite_utils.Database(db_path)) as db:
        if metadata_path and metadata_path.exists():
            writer.write(f"{DOWNLOADS}/metadata.json", metadata_json(metadata_path, db))
        csv_text, json_text = paper_exports(db)
    writer.write(f"{DOWNLOADS}/papers.csv", csv_text)
    writer.write(f"{DOWNLOADS}/papers.json", json_text)


def paper_exports(db: sqlite_utils.Database) -> tuple[str, str]:
    """CSV and JSON of every paper with its topics (the ``papers_with_topics`` view).

    The view's topics are a JSON array (for Datasette's array facet): the JSON has it as a
    list, the CSV, read in spreadsheets, as the names separated by "; ".
    """
    rows = list(db.query("select * from papers_with_topics order by slug"))
    for row in rows:
        row["topics"] = json.loads(row["topics"])
        row["code_links"] = row["code_links"].split(" ") if row["code_links"] else []
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(
            {**row, "topics": "; ".join(row["topics"]), "code_links": " ".join(row["code_links"])}
            for row in rows
        )
    return buffer.getvalue(), json.dumps(rows, ensure_ascii=False, indent=1) + "\n"


def metadata_json(metadata_path: Path, db: sqlite_utils.Database) -> str:
    """The Datasette metadata for ``db`` as JSON: published beside the database for
    Datasette Lite, and what ``build.py serve`` runs with."""
    metadata = datasette_metadata(metadata_path, db)
    return json.dumps(metadata, ensure_ascii=False, indent=1) + "\n"


def datasette_metadata(metadata_path: Path, db: sqlite_utils.Database) -> dict:
    """``datasets/metadata.yml`` for this database: the tables it leaves empty hidden
    (Datasette lists hidden tables last, behind a link, and fills its SQL box from the
    first table listed, so a visitor meets the data first; ``authors`` is empty when no
    listing names authors), and the topics *Papers in a topic* accepts named on its page."""
    metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    tables = metadata["databases"]["papers"].setdefault("tables", {})
    for name in data_tables(db):
        if not db.execute(f"select exists (select 1 from [{name}])").fetchone()[0]:
            tables.setdefault(name, {})["hidden"] = True
    in_topic = metadata["databases"]["papers"].get("queries", {}).get("papers_in_topic")
    if in_topic:  # the query page names the topics it accepts
        topics = db.execute("select name, slug from topics order by position").fetchall()
        valid = "; ".join(f"{name} ({slug})" for name, slug in topics)
        in_topic["description"] = f"{in_topic['description'].strip()} Topics: {valid}."
    return metadata
