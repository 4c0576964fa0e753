"""Adding a listing rewrites only the affected pages, rebuilds only them with MkDocs, and
gives the same database and the same site as a full rebuild."""

import gzip
import json
import os
import shutil
import tarfile
from importlib.metadata import version
from pathlib import Path

import pytest
import sqlite_utils
from mkdocs.exceptions import Abort

from papershelf.publish.mkdocs_build import (
    PAGES_PER_WORKER,
    PreviousSite,
    build_pages,
    load_site_config,
    rendering_versions,
)
from papershelf.publish.site import build_site
from papershelf.store.pipeline import build_database

from .conftest import (
    CONFIG,
    FIXTURES,
    LISTINGS,
    METADATA,
    REAL_SITE_BUNDLE,
    TOPICS,
    build_site_into,
)

NEW_LISTING = (
    "new\n\nSubscribe\n\nDaily Papers\n\nNov 20\n\n"
    "Quokka: Retrieval-Augmented Tuning for Marsupial Question Answering\n\n"
    "We fine-tune a small language model with retrieval-augmented generation on a corpus "
    "about marsupials and release it at https://github.com/example/quokka.\n\n"
    "  • 3 authors\n·\nNov 18, 2025 4\n"
)
NEW_SLUG = "quokka-retrieval-augmented-tuning-for-marsupial-question-answering"


def _files(root):
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "sitemap.xml.gz"
    }


def _fixture_collection(tmp_path):
    """Two fixture listings in ``tmp_path``, and their database."""
    listings = tmp_path / "listings"
    listings.mkdir()
    for name in ("simple.txt", "rich.txt"):
        shutil.copy(FIXTURES / name, listings / name)
    db = tmp_path / "papers.db"
    build_database(listings, TOPICS, db)
    return listings, db


def _assert_same_site(got_root, expected_root):
    got, expected = _files(got_root / "site"), _files(expected_root / "site")
    assert sorted(got) == sorted(expected)
    assert [name for name in expected if got[name] != expected[name]] == []


def test_adding_a_listing_rebuilds_only_what_changed(tmp_path):
    listings = tmp_path / "listings"
    shutil.copytree(LISTINGS, listings)
    db = tmp_path / "papers.db"
    build_database(listings, TOPICS, db)
    incremental = tmp_path / "incremental"
    first = build_site_into(db, incremental, tmp_path / "cache")
    assert not first.incremental
    untouched = incremental / "site" / "listings" / "000-01ff736d1a2e613b" / "index.html"
    inode = untouched.stat().st_ino

    (listings / "005_new.txt").write_text(NEW_LISTING, encoding="utf-8")
    build_database(listings, TOPICS, db)
    second = build_site_into(db, incremental, tmp_path / "cache", workers=2)  # in two shares
    assert second.incremental
    written = set(second.render.written)
    assert f"papers/{NEW_SLUG}.md" in written
    assert {"listings/005-new.md", "listings/index.md", "papers/index.md", "index.md"} <= written
    assert "listings/000-01ff736d1a2e613b.md" not in written
    assert len([w for w in written if w.startswith("papers/")]) < 0.5 * 290
    assert (incremental / "site" / "papers" / NEW_SLUG / "index.html").exists()
    # MkDocs did not rewrite the pages whose Markdown did not change
    assert untouched.stat().st_ino == inode

    # The same database and the same site as a full build from scratch
    full_db = tmp_path / "full.db"
    build_database(listings, TOPICS, full_db)
    assert db.read_bytes() == full_db.read_bytes()
    full = tmp_path / "full"
    build_site_into(full_db, full, tmp_path / "cache")
    _assert_same_site(incremental, full)


def test_removed_listing_removes_its_pages(tmp_path):
    listings, db = _fixture_collection(tmp_path)
    build_site_into(db, tmp_path, tmp_path / "cache")
    slug = "a-paper-about-nothing-in-particular"
    assert (tmp_path / "site" / "papers" / slug / "index.html").exists()

    (listings / "simple.txt").unlink()
    build_database(listings, TOPICS, db)
    result = build_site_into(db, tmp_path, tmp_path / "cache")
    assert result.incremental and f"papers/{slug}.md" in result.render.removed
    assert not (tmp_path / "site" / "papers" / slug).exists()
    assert not (tmp_path / "site" / "listings" / "simple").exists()
    assert sqlite_utils.Database(db)["papers"].count == 4
    assert not list((tmp_path / "search").glob(f"*/papers/{slug}/index.html"))  # its document
    fragments = (tmp_path / "site" / "pagefind").glob("*/fragment/*.pf_fragment")
    searched = [
        json.loads(gzip.decompress(f.read_bytes()).removeprefix(b"pagefind_dcd"))["url"]
        for f in fragments
    ]
    papers_searched = [url for url in searched if url.startswith("/papers/")]
    assert len(papers_searched) == 4 and f"/papers/{slug}/" not in papers_searched


def test_a_build_in_shares_gives_the_same_site(real_db, real_site, notebook_cache, tmp_path):
    root, serial = real_site
    assert serial.render.pages < 2 * PAGES_PER_WORKER  # so that one process built it
    build_site_into(real_db, tmp_path, notebook_cache, REAL_SITE_BUNDLE, workers=3)
    _assert_same_site(tmp_path, root)
    assert not list(tmp_path.glob(".site.tmp-*"))  # the shares' directories are gone


def test_a_failing_share_fails_the_build_with_its_warning(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    # Every generated page has front matter with a title (the build checks it was read).
    (docs / "index.md").write_text('---\ntitle: "Home"\n---\n# Home\n', encoding="utf-8")
    zebra = '---\ntitle: "Zebra"\n---\n# Zebra\n\n[gone](missing.md)\n'
    (docs / "zebra.md").write_text(zebra, encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\nvalidation:\n  unrecognized_links: warn\n", "utf-8")
    site = tmp_path / "site"
    with pytest.raises(Abort) as raised:  # zebra.md is in the second share
        build_pages(load_site_config(config, docs), site, [], source_date_epoch=0, workers=2)
    message = str(raised.value)
    assert "Aborted with 1 warnings in strict mode" in message
    assert "Doc file 'zebra.md' contains a link 'missing.md'" in message
    assert sorted(tmp_path.iterdir()) == [docs, config]  # no site, no share left behind


def test_shares_import_this_package_where_the_project_keeps_the_theme(tmp_path, monkeypatch):
    """A project laid out as mkdocs.yml expects (the theme at papershelf/publish/theme)
    but without the package: Python took that folder for papershelf in the shares' fresh
    interpreters ("No module named papershelf.publish.mkdocs_build")."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("index", "zebra"):
        (docs / f"{name}.md").write_text(f'---\ntitle: "{name}"\n---\n# {name}\n', "utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\n", "utf-8")
    (tmp_path / "papershelf" / "publish" / "theme").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    build_pages(load_site_config(config, docs), site, [], source_date_epoch=0, workers=2)
    assert (site / "zebra" / "index.html").exists()  # built by the second share


def _build_without_notebooks(listings, root):
    build_database(listings, TOPICS, root / "papers.db")
    return build_site(root / "papers.db", root / "site", root / "build" / "docs", CONFIG, METADATA)


def _restore_as_the_ci_cache_does(root, archive):
    """Save ``build/`` and ``site/`` in a POSIX tar (actions/cache's format: the times of
    the files kept) and put them back in place of the originals."""
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in ("build", "site"):
            tar.add(root / name, arcname=name)
            shutil.rmtree(root / name)
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="tar")


@pytest.mark.parametrize("other_code", [False, True], ids=["same-code", "older-code"])
def test_a_restored_build_of_other_listings_gives_the_clean_site(tmp_path, other_code):
    # CI restores the build of an earlier run (other listings, maybe other code) before
    # building: the result must be the clean build's, byte for byte.
    listings = tmp_path / "listings"
    listings.mkdir()
    shutil.copy(FIXTURES / "simple.txt", listings)
    cached = tmp_path / "cached"
    cached.mkdir()
    _build_without_notebooks(listings, cached)
    _restore_as_the_ci_cache_does(cached, tmp_path / "cache.tar")
    stamp_file = cached / "build" / "site-stamp.json"
    if other_code:  # as left by a run that rendered with another pymdown-extensions
        stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
        stamp["versions"]["pymdown-extensions"] = "10.0"
        stamp_file.write_text(json.dumps(stamp), encoding="utf-8")

    shutil.copy(FIXTURES / "rich.txt", listings)
    result = _build_without_notebooks(listings, cached)
    assert result.incremental is not other_code
    clean = tmp_path / "clean"
    clean.mkdir()
    assert not _build_without_notebooks(listings, clean).incremental
    assert (cached / "papers.db").read_bytes() == (clean / "papers.db").read_bytes()
    _assert_same_site(cached, clean)


def test_the_stamp_names_the_versions_of_what_renders_the_pages():
    versions = rendering_versions()
    # MkDocs, Material, and what they render with, down to their own requirements
    for name in ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "pygments"):
        assert versions[name] == version(name)
    assert {"jinja2", "markupsafe", "backrefs"} <= set(versions)
    # not Material's extras (Pillow is installed, for matplotlib), nor papershelf's own
    assert "pillow" not in versions and "papershelf" not in versions


def test_the_previous_site_is_linked_ahead_and_kept_if_unused(real_site):
    """The previous site is hard-linked into the new site's directory on a thread while
    the pages are written; a build that fails before MkDocs leaves no such directory, and
    keeps the links for the next build instead of making it link every file again."""
    root, _ = real_site
    previous = PreviousSite(load_site_config(CONFIG, root / "docs"), root / "site")
    assert previous.usable and previous.directory.name.startswith(".site.tmp-")
    previous.wait()
    page = Path("papers", "longlora-efficient-fine-tuning-of-long-context-large-language-models")
    linked, served = previous.directory / page / "index.html", root / "site" / page / "index.html"
    assert linked.stat().st_ino == served.stat().st_ino
    assert not (previous.directory / "pagefind").exists()  # every build makes it anew
    assert not (previous.directory / "sitemap.xml").exists()
    previous.close()
    assert not previous.directory.exists()
    assert (root / "site" / page / "index.html").exists()  # the previous site is untouched
    assert (previous.kept / page / "index.html").stat().st_ino == served.stat().st_ino
    shutil.rmtree(previous.kept)  # the fixture's site as it was


def test_an_incremental_build_keeps_the_site_it_replaced_for_the_next(tmp_path):
    """An incremental build keeps the site it replaced beside the new one (sharing its
    unchanged files); the next build brings that copy up to date and starts from it, and
    still gives the site a full build gives. A full build keeps nothing."""
    listings, db = _fixture_collection(tmp_path)
    assert not build_site_into(db, tmp_path, tmp_path / "cache").incremental
    kept = tmp_path / ".site.previous"
    assert not kept.exists()

    (listings / "simple.txt").unlink()
    build_database(listings, TOPICS, db)
    assert build_site_into(db, tmp_path, tmp_path / "cache").incremental
    search_page = Path("find", "index.html")  # a page no listing changes
    assert (kept / search_page).stat().st_ino == (tmp_path / "site" / search_page).stat().st_ino
    assert (kept / "papers" / "a-paper-about-nothing-in-particular").is_dir()  # removed since

    shutil.copy(FIXTURES / "simple.txt", listings / "simple.txt")
    build_database(listings, TOPICS, db)
    folder = (kept / "papers").stat().st_ino  # folders are not linked: this one moves
    third = build_site_into(db, tmp_path, tmp_path / "cache")
    assert third.incremental and kept.is_dir()
    assert (tmp_path / "site" / "papers").stat().st_ino == folder  # built from the kept copy
    full = tmp_path / "full"
    build_site_into(db, full, tmp_path / "cache")
    _assert_same_site(tmp_path, full)

    (tmp_path / "site-stamp.json").unlink()  # as after a change of configuration
    assert not build_site_into(db, tmp_path, tmp_path / "cache").incremental
    assert not kept.exists()  # it could not be used, and a full build keeps nothing


def test_a_symbolic_link_where_the_kept_site_goes_is_left_alone(real_site, tmp_path):
    """``.site.previous`` is the build's own folder; a symbolic link there is not followed
    into whatever it points to."""
    root, _ = real_site
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("mine")
    link = root / ".site.previous"
    link.symlink_to(elsewhere, target_is_directory=True)
    try:
        previous = PreviousSite(load_site_config(CONFIG, root / "docs"), root / "site")
        assert previous.usable
        previous.wait()
        previous.close()
        assert (elsewhere / "notes.txt").read_text() == "mine"
        assert sorted(p.name for p in elsewhere.iterdir()) == ["notes.txt"]
    finally:
        link.unlink(missing_ok=True)


def test_an_incremental_build_never_writes_into_the_site_it_replaces(tmp_path):
    """A theme asset whose source is newer than the site's copy (a checkout or a reinstall
    touched it, its bytes the same, so the stamp still matches) is copied again by MkDocs'
    dirty build. The copy must be a new file: the linked one is the live site's (and the
    kept site's), and writing through it truncates and rewrites the published file in
    place, or leaves it cut short when the disk fills meanwhile."""
    listings = tmp_path / "listings"
    listings.mkdir()
    shutil.copy(FIXTURES / "simple.txt", listings / "simple.txt")
    db = tmp_path / "papers.db"
    build_database(listings, TOPICS, db)
    build_site_into(db, tmp_path, tmp_path / "cache")
    asset = tmp_path / "site" / "assets" / "papershelf.css"
    os.utime(asset, (0, 0))  # older than its source in the theme
    witness = tmp_path / "witness.css"
    os.link(asset, witness)  # the published file, whatever its name becomes

    assert build_site_into(db, tmp_path, tmp_path / "cache").incremental

    assert witness.stat().st_mtime == 0, "the published asset was rewritten in place"


def test_a_build_interrupted_before_mkdocs_leaves_no_removed_page(tmp_path, monkeypatch):
    """Ctrl-C (or a kill) after the pages' Markdown was finished, the stale pages removed
    from it, and before MkDocs ran: the next build must still remove the paper's page."""
    import papershelf.publish.site as site_module

    listings, db = _fixture_collection(tmp_path)
    build_site_into(db, tmp_path, tmp_path / "cache")
    slug = "a-paper-about-nothing-in-particular"
    (listings / "simple.txt").unlink()
    build_database(listings, TOPICS, db)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(site_module, "build_pages", interrupted)
        with pytest.raises(KeyboardInterrupt):
            build_site_into(db, tmp_path, tmp_path / "cache")
    build_site_into(db, tmp_path, tmp_path / "cache")
    assert not (tmp_path / "site" / "papers" / slug).exists()
