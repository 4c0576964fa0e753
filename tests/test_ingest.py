"""Hostile and damaged input at ingest: cleaned and reported, or one clear error."""

import json
import re

import pytest
import sqlite_utils
from click.testing import CliRunner

from papershelf.cli import cli
from papershelf.collection.papers import merge_listings
from papershelf.errors import InputError
from papershelf.ingest.formats import (
    MAX_HTML_DEPTH,
    MAX_JSON_DEPTH,
    parse_daily_papers,
    read_listing,
)
from papershelf.ingest.parse import parse_listing
from papershelf.ingest.text import clean_text, listing_name

from .conftest import FIXTURES, LISTINGS, TOPICS

RICH = (LISTINGS / "002_dc612afc06a47ab7.txt").read_text(encoding="utf-8")
SIMPLE = (LISTINGS / "000_01ff736d1a2e613b.txt").read_text(encoding="utf-8")
DAILY = (FIXTURES / "daily_papers.json").read_text(encoding="utf-8")
DAILY_HTML = (FIXTURES / "daily.html").read_text(encoding="utf-8")


def _error(text: str, source: str = "x.txt") -> str:
    with pytest.raises(InputError) as info:
        parse_listing(text, source)
    return str(info.value)


# ---- Text normalisation --------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\x7f", "\x85", "\x9b", "\ufffe", "\uffff", "\x1b", "\x00"])
def test_control_and_non_characters_are_removed_and_reported(character):
    text = RICH.replace("Attention Calibration", f"Attention{character} Calibration", 1)
    listing = parse_listing(text, "x.txt")
    title = listing.entries[0].title
    assert character not in title and title.startswith("Attention")
    assert [(w.line, w.message.split(" (")[0]) for w in listing.warnings] == [
        (13, "replaced or removed 1 control or invalid character")
    ]


@pytest.mark.parametrize("separator", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028"])
def test_characters_other_programs_read_as_line_breaks_do_not_shift_lines(separator):
    # Inside a title (which they used to split) and on a line before an error.
    text = SIMPLE.replace("Few-shot Multimodal", f"Few-shot{separator}Multimodal", 1)
    listing = parse_listing(text, "x.txt")
    assert listing.entries[0].title.startswith("Few-shot Multimodal Multitask")
    assert listing.entries[0].line == 11
    damaged = text.replace("Discriminative Fine-tuning of LVLMs\n\n", "", 1)
    assert _error(damaged).startswith("x.txt:15: expected a paper title")


def test_line_breaks_are_lf_crlf_and_cr_only():
    cleaned, removed = clean_text("a\r\nb\rc\nd")
    assert (cleaned, removed) == ("a\nb\nc\nd", [])


def test_lone_surrogates_become_replacement_characters():
    cleaned, removed = clean_text("a\ud800b")
    assert cleaned == "a\ufffdb" and removed[0].line == 1


@pytest.mark.parametrize(
    ("text", "cleaned", "line"),
    [
        ("emoji \U0001f600\nand \U0001fffe here", "emoji \U0001f600\nand  here", 2),  # beyond
        ("no \U0010ffff\n", "no \n", 1),  # the last plane's non-character
        ("\U0001f600 then \x85", "\U0001f600 then  ", 1),  # in the BMP beside an emoji
        ("\U0001f600 and \U0002fffd only", None, None),  # a character, not a non-character
    ],
)
def test_non_characters_beyond_the_bmp_are_removed(text, cleaned, line):
    # clean_text asks cheaper questions first: neither may hide one of these.
    result, removed = clean_text(text)
    assert result == (text if cleaned is None else cleaned)
    assert [r.line for r in removed] == ([] if line is None else [line])


# ---- The header grammar ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (lambda text: text.replace("\nNov 25\n", "\n", 1), 12),  # date line deleted
        (lambda text: text.replace("\nNov 25\n", "\nNov 25, 2024\n", 1), 11),  # a year added
        (lambda text: text.replace("\nNov 25\n", "\nNov\u200b 25\n", 1), 11),  # zero-width
    ],
)
def test_a_damaged_listing_date_is_an_error_not_a_silent_merge(damage, line):
    message = _error(damage(RICH))
    assert message.startswith(f"x.txt:{line}: an entry comes before the listing's date line")


def test_a_date_line_moved_down_is_an_error_naming_the_first_entry():
    lines = SIMPLE.split("\n")
    lines.remove("Mar 14")
    lines.insert(48, "Mar 14")
    assert _error("\n".join(lines)).startswith("x.txt:10: an entry comes before")


def test_the_real_headers_are_page_chrome_only():
    for path in sorted(LISTINGS.glob("*.txt")):
        listing = read_listing(path)
        assert 1 <= len(listing.header) <= 5 and listing.entries


# ---- Counts and JSON values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "upvotes", ["9223372036854775808", "9" * 5000], ids=["2^63", "5000-digits"]
)
def test_upvotes_beyond_what_sqlite_stores_are_an_error(upvotes):
    text = RICH.replace("Mar 27, 2024\n", f"Mar 27, 2024 {upvotes}\n", 1)
    assert "upvote count" in _error(text) and "is out of range" in _error(text)
    assert _error(text).startswith("x.txt:19: ")


def _json_error(mutate) -> str:
    items = json.loads(DAILY)
    mutate(items[0])
    with pytest.raises(InputError) as info:
        parse_daily_papers(json.dumps(items, indent=2), "x.json")
    return str(info.value)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda i: i["paper"].update(upvotes=2**63), "paper.upvotes 9223372036854775808 is out"),
        (lambda i: i["paper"].update(upvotes=-1), "paper.upvotes -1 is out of range"),
        (lambda i: i["paper"].update(upvotes="7"), "paper.upvotes must be a whole number"),
        (lambda i: i["paper"].update(upvotes=7.5), "paper.upvotes must be a whole number"),
        (lambda i: i["paper"].update(authors="Ann"), "paper.authors must be a list"),
        (lambda i: i["paper"].update(authors=[{"name": 3}]), "paper.authors[1] must be an"),
        (lambda i: i["paper"].update(ai_keywords="x"), "ai_keywords must be a list of strings"),
        (lambda i: i["paper"].update(title=["T"]), "paper.title must be a string, not a list"),
        (lambda i: i["paper"].update(githubStars=True), "githubStars must be a whole number"),
        (lambda i: i["paper"].update(publishedAt=5), "paper.publishedAt must be a date string"),
    ],
)
def test_json_values_of_the_wrong_type_or_range_name_the_field(mutate, message):
    error = _json_error(mutate)
    assert error.startswith("x.json:2: item 1: ") and message in error


def test_escaped_control_characters_and_surrogates_in_json_are_cleaned_and_reported():
    text = DAILY.replace("Free Process Rewards", "Free\\u007f Process\\ud800 Rewards", 1)
    listing = parse_daily_papers(text, "x.json")
    assert listing.entries[0].title == "Free Process\ufffd Rewards without Process Labels"
    assert [w.line for w in listing.warnings] == [2]


def test_deep_json_is_an_error_with_a_line():
    text = "[\n" + "[" * 5000 + "]" * 5000 + "\n]"
    with pytest.raises(InputError) as info:
        parse_daily_papers(text, "x.json")
    assert str(info.value) == f"x.json:2: JSON nested more than {MAX_JSON_DEPTH} levels deep"


@pytest.mark.parametrize("unit", ["<div>", "<b>", "<div>x"])
def test_deep_html_is_an_error_with_a_line(tmp_path, unit):
    path = tmp_path / "deep.html"
    html = DAILY_HTML.replace("<body>", "<body>\n" + unit * 5000, 1)
    path.write_text(html, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_listing(path)
    assert str(info.value).endswith(f"HTML nested more than {MAX_HTML_DEPTH} elements deep")
    # The line of the element that went too deep: the nested run starts after <body>.
    assert info.value.line == html[: html.index("<body>")].count("\n") + 2


def test_html_a_little_nested_still_reads(tmp_path):
    path = tmp_path / "nested.html"
    wrapped = "<div>" * 200 + "\n" + DAILY_HTML + "</div>" * 200
    path.write_text(wrapped, encoding="utf-8")
    assert [e.title for e in read_listing(path).entries] == [
        e.title for e in read_listing(FIXTURES / "daily.html").entries
    ]


# ---- Listing ids and slugs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("000_01ff736d1a2e613b", "000-01ff736d1a2e613b"),
        ("index", "index-listing"),
        ("README", "readme-listing"),
        ("a#b?c", "a-b-c"),
        ("Über Papers", "uber-papers"),
    ],
)
def test_listing_names_are_safe_ids(stem, name):
    assert listing_name(stem) == name


def test_a_listing_name_with_nothing_safe_left_is_a_hash():
    assert re.fullmatch(r"listing-[0-9a-f]{8}", listing_name("###"))


def test_two_files_with_one_listing_id_are_an_error_naming_both(tmp_path):
    (tmp_path / "day.txt").write_text(SIMPLE, encoding="utf-8")
    (tmp_path / "Day.html").write_text(DAILY_HTML, encoding="utf-8")
    listings = [read_listing(p) for p in sorted(tmp_path.iterdir())]
    with pytest.raises(InputError) as info:
        merge_listings(listings)
    assert "this listing's id 'day' is also that of" in str(info.value)
    assert "Day.html" in str(info.value) and "day.txt" in str(info.value)


def test_two_json_papers_with_one_title_and_different_ids_get_distinct_slugs():
    items = json.loads(DAILY)
    twin = json.loads(json.dumps(items[0]))
    twin["paper"]["id"] = "2501.00001"
    listing = parse_daily_papers(json.dumps([items[0], twin]), "x.json")
    papers, warnings = merge_listings([listing])
    assert [p.slug for p in papers] == [
        "free-process-rewards-without-process-labels-2412-01981",
        "free-process-rewards-without-process-labels-2501-00001",
    ]
    assert len(warnings) == 2


def test_a_listing_called_index_does_not_replace_the_listings_index(tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    (listings / "index.txt").write_text(SIMPLE, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "db",
            "--listings",
            str(listings),
            "--topics",
            str(TOPICS),
            "--db",
            str(tmp_path / "p.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    names = [r["name"] for r in sqlite_utils.Database(tmp_path / "p.db")["listings"].rows]
    assert names == ["index-listing"]


def test_a_date_line_repeated_above_the_header_is_an_error_not_extra_papers():
    text = RICH.replace("new\n", "new\n\nNov 25\n", 1)
    assert _error(text).startswith("x.txt:5: 'Get trending papers in your email inbox!' is page")


def test_a_json_number_too_long_to_convert_is_an_error_with_its_line():
    text = DAILY.replace('"upvotes": 7', '"upvotes": ' + "9" * 5000, 1)
    assert '"upvotes": 999' in text
    with pytest.raises(InputError) as info:
        parse_daily_papers(text, "x.json")
    line = text[: text.index("9" * 5000)].count("\n") + 1
    assert str(info.value) == f"x.json:{line}: a number is too long"
