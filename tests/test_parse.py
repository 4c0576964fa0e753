import datetime as dt

import pytest

from papershelf.errors import InputError
from papershelf.ingest.formats import read_listing
from papershelf.ingest.parse import Entry, parse_listing

from .conftest import FIXTURES, LISTINGS

SIMPLE = (FIXTURES / "simple.txt").read_text(encoding="utf-8")
RICH = (FIXTURES / "rich.txt").read_text(encoding="utf-8")


def test_simple_layout_fixture():
    listing = parse_listing(SIMPLE, "simple.txt")
    assert listing.layout == "simple"
    assert listing.date_text == "Mar 14"
    assert listing.date is None and listing.year is None
    assert listing.header == (
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "byAK and the research community",
    )
    assert [e.title for e in listing.entries] == [
        "CorDA: Context-Oriented Decomposition Adaptation of Large Language Models",
        "Chain of Hindsight Aligns Language Models with Feedback",
        "A Paper About Nothing In Particular",
    ]
    assert listing.entries[2] == Entry(
        rank=3,
        line=19,
        title="A Paper About Nothing In Particular",
        abstract="This abstract names no topic at all; it rambles about teapots and umbrellas.",
    )


def test_rich_layout_fixture():
    listing = parse_listing(RICH, "rich.txt")
    assert listing.layout == "rich"
    # Latest explicit year is 2024, so the listing (and its yearless dates) are 2025.
    assert (listing.year, listing.year_source, listing.date) == (
        2025,
        "inferred",
        dt.date(2025, 11, 4),
    )
    first, lines, hindsight, rewards = listing.entries
    assert first.authors_count is None and first.published is None and first.upvotes is None
    assert lines.authors_count == 6
    assert (lines.published, lines.upvotes, lines.year_inferred) == (
        dt.date(2024, 10, 22),
        0,
        False,
    )
    assert hindsight.authors_count == 1  # "• 1 author"
    assert (hindsight.published, hindsight.upvotes) == (dt.date(2023, 2, 6), 12)
    assert rewards == Entry(
        rank=4,
        line=33,
        title="Free Process Rewards without Process Labels",
        abstract="We train a process reward model for math reasoning from outcome labels alone.",
        authors_count=9,
        published=dt.date(2025, 8, 13),
        published_text="Aug 13",  # the date as shown; the 5 is upvotes
        year_inferred=True,
        upvotes=5,
    )


def test_year_option_overrides_inference():
    listing = parse_listing(RICH, "rich.txt", year=2030)
    assert (listing.year, listing.year_source) == (2030, "option")
    assert listing.entries[3].published == dt.date(2030, 8, 13)
    assert listing.entries[1].published == dt.date(2024, 10, 22)  # explicit years stay


def test_yearless_date_without_any_year_is_a_warning():
    text = "Mar 14\n\nTitle\n\nAbstract.\n\n  • 2 authors\n·\nAug 13 5\n"
    listing = parse_listing(text, "x.txt")
    assert listing.entries[0].published is None
    assert listing.entries[0].published_text == "Aug 13"
    assert [(w.line, w.message) for w in listing.warnings] == [
        (9, "date 'Aug 13 5' has no year and the listing's year is unknown; pass --year to date it")
    ]


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda t: "\ufeff" + t, id="bom"),
        pytest.param(lambda t: t.replace("\n", "   \n"), id="trailing-spaces"),
        pytest.param(lambda t: t.replace("\n\n", "\n\n\n\n"), id="extra-blank-lines"),
        pytest.param(lambda t: t.rstrip("\n"), id="no-final-newline"),
    ],
)
def test_whitespace_variants_parse_the_same(transform):
    expected = parse_listing(RICH, "rich.txt")
    got = parse_listing(transform(RICH), "rich.txt")
    assert [
        (e.title, e.abstract, e.authors_count, e.published, e.upvotes) for e in got.entries
    ] == [(e.title, e.abstract, e.authors_count, e.published, e.upvotes) for e in expected.entries]


def test_real_listings_counts():
    counts = {path.name: len(read_listing(path).entries) for path in sorted(LISTINGS.iterdir())}
    assert list(counts.values()) == [65, 65, 74, 94, 80]
    assert sum(counts.values()) == 378


def test_real_listing_record_with_upvotes_and_explicit_year():
    listing = read_listing(LISTINGS / "002_dc612afc06a47ab7.txt")
    entry = next(e for e in listing.entries if e.title.startswith("Ensemble-Instruct"))
    raw = (LISTINGS / "002_dc612afc06a47ab7.txt").read_text(encoding="utf-8").splitlines()
    assert raw[entry.line - 1] == entry.title
    assert raw[entry.line + 1] == entry.abstract
    assert entry.abstract.startswith("Using in-context learning (ICL) for data generation")
    assert entry.abstract.endswith("https://github.com/IBM/ensemble-instruct.")
    assert (entry.authors_count, entry.published, entry.upvotes, entry.year_inferred) == (
        7,
        dt.date(2023, 10, 21),
        2,
        False,
    )
    assert entry.rank == len(listing.entries)  # the last entry of the file


def test_real_listing_record_with_inferred_year():
    listing = read_listing(LISTINGS / "004_f398639f93e6417c.txt")
    assert listing.year == 2025
    entry = next(e for e in listing.entries if e.title.startswith("From Intent to Execution"))
    raw = (LISTINGS / "004_f398639f93e6417c.txt").read_text(encoding="utf-8").splitlines()
    assert raw[entry.line - 1 : entry.line + 6] == [
        entry.title,
        "",
        entry.abstract,
        "",
        "  • 7 authors",
        "·",
        "Aug 13",
    ]
    assert (entry.published, entry.year_inferred, entry.upvotes) == (dt.date(2025, 8, 13), True, 0)


def test_real_listing_record_without_metadata():
    listing = read_listing(LISTINGS / "004_f398639f93e6417c.txt")
    first = listing.entries[0]
    assert first.title == "A Survey on Post-training of Large Language Models"
    assert first.line == 13
    assert (first.authors_count, first.published, first.upvotes) == (None, None, None)


def _error(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_listing(text, "bad.txt")
    return str(info.value)


HEADER = "new\n\nSubscribe\n\nMar 14\n\n"


def test_abstract_without_title_is_an_error():
    abstract = "An abstract that lost its title. " * 12
    text = HEADER + f"A Title\n\n{abstract}\n\n{abstract}\n\nAnother Title\n\nShort.\n"
    assert _error(text) == (
        f"bad.txt:11: expected a paper title, found a paragraph of {len(abstract.strip())} "
        "characters (an abstract without a title?)"
    )


def test_title_without_abstract_is_a_truncated_entry():
    assert _error(HEADER + "A Title\n\nIts abstract.\n\nA Lonely Title\n") == (
        "bad.txt:11: truncated entry: the title 'A Lonely Title' has no abstract"
    )


def test_authors_without_date_is_a_truncated_entry():
    assert _error(HEADER + "A Title\n\nIts abstract.\n\n  • 3 authors\n") == (
        "bad.txt:11: truncated entry: '• 3 authors' must be followed by a '·' line and a date line"
    )


def test_impossible_date_is_an_error():
    text = HEADER + "A Title\n\nIts abstract.\n\n  • 3 authors\n·\nFeb 30, 2024 4\n"
    assert _error(text) == (
        "bad.txt:13: unparseable date 'Feb 30, 2024 4': day is out of range for month"
    )


def test_no_entries_is_an_error():
    assert _error(HEADER) == "bad.txt:5: no entries found after the listing date"


def test_missing_listing_date_is_an_error():
    assert _error("Just some text\n\nMore text\n") == (
        "bad.txt:1: no listing date found: the page header must end with the listing's date "
        "on a line of its own, such as 'Mar 14', before the first entry"
    )


def test_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(HEADER.encode() + "Caf\u00e9 Title\n\nAbstract.\n".encode("latin-1"))
    with pytest.raises(InputError) as info:
        read_listing(path)
    assert str(info.value) == (
        f"{path}:7: not UTF-8 text (byte 0xe9 at column 4); save the listing as UTF-8"
    )


def test_markup_in_listings_is_kept_as_text():
    text = HEADER + "<script>alert(1)</script> {{ x }}\n\n[link](javascript:alert(1)) <b>hi</b>\n"
    entry = parse_listing(text, "x.txt").entries[0]
    assert entry.title == "<script>alert(1)</script> {{ x }}"
    assert entry.abstract == "[link](javascript:alert(1)) <b>hi</b>"


def test_published_text_is_the_date_without_the_upvote_count():
    text = "Mar 14\n\nTitle\n\nAbstract.\n\n  • 2 authors\n·\nOct 2, 2024 5\n"
    entry = parse_listing(text, "x.txt").entries[0]
    assert (entry.published_text, entry.published, entry.upvotes) == (
        "Oct 2, 2024",
        dt.date(2024, 10, 2),
        5,
    )
