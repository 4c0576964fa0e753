"""The site's address as the database stage reads it: the value MkDocs itself gives,
without loading the whole configuration."""

from __future__ import annotations

import pytest

from papershelf.errors import InputError
from papershelf.publish.mkdocs_build import load_site_config
from papershelf.publish.site_url import read_site_url

from .conftest import CONFIG


def _mkdocs_site_url(config_file, tmp_path) -> str:
    return load_site_config(config_file, tmp_path / "docs").site_url or ""


def test_the_repository_configuration_gives_what_mkdocs_gives(tmp_path):
    site_url = read_site_url(CONFIG)
    assert site_url.startswith("https://") and site_url.endswith("/")
    assert site_url == _mkdocs_site_url(CONFIG, tmp_path)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["site_url: https://example.org/shelf"], "https://example.org/shelf/"),
        (["site_url: https://example.org"], "https://example.org/"),
        (["site_url: !ENV [PAPERSHELF_TEST_SITE_URL, https://x.org/]"], "https://env.org/a/"),
        (["site_url: !ENV [PAPERSHELF_TEST_UNSET, https://x.org/b]"], "https://x.org/b/"),
        (["INHERIT: parent.yml"], "https://parent.org/p/"),
        ([], ""),
        (["site_url: ''"], ""),
    ],
)
def test_tags_inheritance_and_slashes_as_mkdocs_reads_them(lines, expected, tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERSHELF_TEST_SITE_URL", "https://env.org/a")
    monkeypatch.delenv("PAPERSHELF_TEST_UNSET", raising=False)
    (tmp_path / "parent.yml").write_text("site_url: https://parent.org/p\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("\n".join(["site_name: t", *lines, ""]), encoding="utf-8")
    assert read_site_url(config) == expected
    assert read_site_url(config) == _mkdocs_site_url(config, tmp_path)


@pytest.mark.parametrize("value", ["example.org/shelf", "[1, 2]", "'{{ x }}'"])
def test_a_site_url_that_is_no_url_is_bad_input(value, tmp_path):
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: t\nsite_url: {value}\n", encoding="utf-8")
    with pytest.raises(InputError, match="site_url .* is not a URL"):
        read_site_url(config)


def test_invalid_yaml_is_bad_input_naming_the_file(tmp_path):
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: [t\n", encoding="utf-8")
    with pytest.raises(InputError, match="mkdocs.yml"):
        read_site_url(config)
