"""Datasette as users run it: the settings of datasets/settings.json everywhere the database
is served, and the plugins (datasette-atom, datasette-search-all), through Datasette's own
test client and a real `build.py serve`."""

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tomllib
import urllib.request
import xml.etree.ElementTree as ET

import feedparser
import pytest
import yaml
from click.testing import CliRunner
from datasette.app import Datasette
from markupsafe import escape

from papershelf.cli import cli, setting_options
from papershelf.store.pipeline import build_database

from .conftest import FIXTURES, METADATA, REPO, TOPICS

SETTINGS = json.loads((REPO / "datasets" / "settings.json").read_text(encoding="utf-8"))
ATOM = "{http://www.w3.org/2005/Atom}"


def served(db) -> Datasette:
    """Datasette as `build.py serve` starts it: metadata, settings and installed plugins."""
    return Datasette(
        [str(db)], immutables=[], metadata=yaml.safe_load(METADATA.read_text()), settings=SETTINGS
    )


@pytest.fixture(scope="module")
def datasette(real_db):
    return served(real_db)


def get(datasette, path):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == 200, (path, response.text[:500])
    return response


# --- Settings ---


def test_long_text_is_truncated_in_table_views_and_whole_in_json(datasette, real_db):
    limit = SETTINGS["truncate_cells_html"]
    with sqlite3.connect(real_db) as conn:
        slug, abstract = conn.execute(
            "select slug, abstract from papers order by length(abstract) desc, slug limit 1"
        ).fetchone()
    assert len(abstract) > limit
    page = get(datasette, f"/papers/papers?slug={slug}").text
    assert str(escape(abstract[:limit])) + "…" in page
    assert str(escape(abstract)) not in page
    rows = get(datasette, f"/papers/papers.json?_shape=array&slug={slug}").json()
    assert rows[0]["abstract"] == abstract


def test_serve_runs_datasette_with_the_settings_and_the_plugins(real_db):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "build.py", "serve", "--db", str(real_db), "--port", str(port)]
    # Its own session: serve starts Datasette as a child, and both are stopped together.
    server = subprocess.Popen(
        command, cwd=REPO, stderr=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        settings = wait_for_json(f"http://127.0.0.1:{port}/-/settings.json", server)
        plugins = wait_for_json(f"http://127.0.0.1:{port}/-/plugins.json", server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    assert {name: settings[name] for name in SETTINGS} == SETTINGS
    assert {"datasette-atom", "datasette-search-all"} <= {p["name"] for p in plugins}


def wait_for_json(url: str, server: subprocess.Popen):
    """The JSON at ``url`` once the server answers (it fails the test if the server exits)."""
    for _ in range(600):
        if server.poll() is not None:
            pytest.fail(f"serve exited with {server.returncode}: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.load(response)
        except OSError:
            server_wait(server)
    pytest.fail(f"serve never answered {url}")


def server_wait(server: subprocess.Popen) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=0.1)


def test_setting_options_from_the_settings_file(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"truncate_cells_html": 240, "allow_download": false}')
    assert setting_options(path) == [
        "--setting",
        "allow_download",
        "false",
        "--setting",
        "truncate_cells_html",
        "240",
    ]


def test_serve_with_a_bad_settings_file_names_it_and_its_line(real_db, tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{\n  "truncate_cells_html": 240,\n}\n')
    result = CliRunner().invoke(cli, ["serve", "--db", str(real_db), "--settings", str(path)])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {path}:3: ")
    assert "Traceback" not in result.output


def readme_publish_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    text = readme.split("## Publishing", 1)[1].replace("\\\n", " ")
    return [line for line in text.splitlines() if line.startswith("datasette publish")]


def test_readme_publish_commands_use_the_settings_and_the_pinned_plugins():
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    plugins = sorted(d for d in dependencies if d.startswith("datasette-"))
    assert plugins == ["datasette-atom==0.9", "datasette-search-all==1.1.4"]
    commands = readme_publish_commands()
    assert len(commands) == 2, commands
    for command in commands:
        options = re.search(r'--extra-options "([^"]*)"', command).group(1).split()
        pairs = dict(zip(options[1::3], options[2::3], strict=True))
        assert options[::3] == ["--setting"] * len(pairs)
        assert pairs == {name: str(value) for name, value in SETTINGS.items()}, command
        assert sorted(re.findall(r"--install (\S+)", command)) == plugins, command


def test_ci_check_serves_the_database_with_the_settings_file():
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "publish.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    check = next(step["run"] for step in steps if step.get("name") == "Check the result")
    # Datasette reads settings.json (and metadata.yml) itself from a configuration directory.
    assert "datasette datasets --get" in check
    assert "/-/settings.json" in check and "datasets/settings.json" in check
    assert "newest_papers.atom" in check


# --- datasette-atom: a feed of the newest papers ---


def test_newest_papers_feed_is_valid_atom_newest_first(datasette, real_db):
    response = get(datasette, "/papers/newest_papers.atom")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Newest papers"
    with sqlite3.connect(real_db) as conn:
        newest = conn.execute(
            "select title, slug, published, abstract, page_url from papers_with_topics "
            "where published is not null order by published desc, slug limit 50"
        ).fetchall()
    assert [e.title for e in feed.entries] == [row[0] for row in newest]
    first = feed.entries[0]
    assert first.link == first.id == newest[0][4]
    assert first.link.endswith(f"/papers/{newest[0][1]}/")
    assert first.updated.startswith(newest[0][2])
    assert first.summary == newest[0][3]


def test_feed_has_the_elements_rfc_4287_requires(datasette):
    root = ET.fromstring(get(datasette, "/papers/newest_papers.atom").content)
    assert root.tag == f"{ATOM}feed"
    for element in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{element}").text, element
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 50
    for entry in entries:
        for element in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{element}").text, element


def test_feed_carries_hostile_text_as_text(tmp_path):
    (tmp_path / "listings").mkdir()
    (tmp_path / "listings" / "hostile.txt").write_bytes((FIXTURES / "hostile.txt").read_bytes())
    build_database(tmp_path / "listings", TOPICS, tmp_path / "papers.db", site_url="")
    root = ET.fromstring(get(served(tmp_path / "papers.db"), "/papers/newest_papers.atom").content)
    with sqlite3.connect(tmp_path / "papers.db") as conn:
        titles = conn.execute(
            "select title from papers where published is not null order by published desc, slug"
        ).fetchall()
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [t for (t,) in titles]
    assert any("<script>" in e.find(f"{ATOM}title").text for e in entries)
    # Without a site_url or an arXiv id, each id is a URN made from the slug.
    assert all(e.find(f"{ATOM}id").text.startswith("urn:papershelf:paper:") for e in entries)
    assert all(e.find(f"{ATOM}content").get("type") == "text" for e in entries)
    assert {e.find(f"{ATOM}link").get("href") for e in entries} == {"https://huggingface.co/papers"}


# --- datasette-search-all: one search box over the full-text-indexed tables ---


def test_search_all_offers_the_papers_table(datasette):
    page = get(datasette, "/-/search?q=surgical+concept+erasing").text
    assert "/papers/papers.json" in page
    assert "Search for records across" in get(datasette, "/").text


def test_search_all_finds_our_paper(datasette):
    page = get(datasette, "/-/search?q=surgical").text
    tables = json.loads(re.search(r"var searchable_tables = (\[.*?\]);", page, re.S).group(1))
    url = next(t["url_json"] for t in tables if t["table"] == "papers")
    rows = get(datasette, f"{url}?_search=surgical+concept+erasing&_shape=array").json()
    assert rows[0]["slug"].startswith("all-but-one-surgical-concept-erasing")
