"""`build.py enrich` against a local server on 127.0.0.1 that answers in the shapes of the
real APIs. The tests never reach the public services.

The shapes, and where they are documented:

- Hugging Face paper search, ``GET /api/papers/search?q=…&limit=…``: a JSON list of
  ``{"paper": {"id", "title", "authors": [{"name"}], "publishedAt", …}, "title", …}``;
  and the paper record, ``GET /api/papers/{id}``: one flat object with ``id``, ``title``,
  ``authors`` (``[{"name"}]``), ``publishedAt``, ``summary``, ``upvotes``, ``ai_summary``,
  ``ai_keywords``, ``projectPage``, ``githubRepo``, ``githubStars``. Endpoints: the
  huggingface/skills repository, skills/huggingface-papers/SKILL.md ("Search papers",
  "Get structured metadata"); fields: huggingface_hub's ``PaperInfo``, which
  ``HfApi.list_papers`` and ``HfApi.paper_info`` fill from these answers
  (huggingface/huggingface_hub, src/huggingface_hub/hf_api.py).
- arXiv, ``GET /api/query?search_query=ti:"…"&start=0&max_results=…``: an Atom 1.0 feed,
  each ``<entry>`` with ``<id>http://arxiv.org/abs/ID vN</id>``, ``<title>``,
  ``<published>``, ``<updated>``, ``<summary>``, ``<author><name>``, ``<link title="pdf">``
  and ``<arxiv:primary_category term>``; an error is a feed whose one entry has an id
  under ``http://arxiv.org/api/errors``. The arXiv API User's Manual,
  https://info.arxiv.org/help/api/user-manual.html (3.1 query interface, 3.3 outline of an
  Atom feed, 3.4 errors).
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

import pytest
from click.testing import CliRunner

from papershelf.cli import cli
from papershelf.ingest.enrich import cache_text, options_from, read_cache
from papershelf.ingest.text import normalise_title

from .conftest import send_answer

ATTENTION = "Attention Is All You Need"
ATTENTION_KEY = normalise_title(ATTENTION)

RECORD = {
    "id": "1706.03762",
    "title": "Attention is All you Need",
    "authors": [{"_id": "1", "name": "Ashish Vaswani", "hidden": False}, {"name": "Noam Shazeer"}],
    "publishedAt": "2017-06-12T17:57:34.000Z",
    "summary": "The dominant sequence transduction models …",
    "upvotes": 42,
    "discussionId": "abc",
    "githubRepo": "https://github.com/tensorflow/tensor2tensor",
    "githubStars": 15000,
    "projectPage": "https://example.org/transformer",
    "ai_summary": "A network architecture based solely on attention.",
    "ai_keywords": ["Transformer", "self-attention"],
}


def search_item(arxiv_id: str, title: str) -> dict:
    """One search result as the search answers it: the paper inside, the title beside."""
    return {
        "paper": {"id": arxiv_id, "title": title, "authors": [], "upvotes": 1},
        "title": title,
        "publishedAt": "2025-08-14T00:00:00.000Z",
    }


def entry(arxiv_id="1706.03762", version="v7", title=ATTENTION, **fields) -> dict:
    return (
        {"id": f"http://arxiv.org/abs/{arxiv_id}{version}", "title": title}
        | {
            "published": "2017-06-12T17:57:34Z",
            "updated": "2023-08-02T00:41:18Z",
            "authors": ["Ashish Vaswani", "Noam Shazeer"],
            "category": "cs.CL",
            "pdf": f"https://arxiv.org/pdf/{arxiv_id}{version}",
            "summary": "The dominant sequence transduction models …",
        }
        | fields
    )


def atom_feed(entries: list[dict]) -> bytes:
    """An arXiv API answer (the manual's section 3.3 outline)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom">',
        "<id>https://arxiv.org/api/abc</id><title>arXiv Query</title>",
        "<updated>2025-08-14T00:00:00-04:00</updated>",
        f"<opensearch:totalResults>{len(entries)}</opensearch:totalResults>",
    ]
    for item in entries:
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in item["authors"])
        parts.append(
            f"<entry><id>{escape(item['id'])}</id>"
            f"<title>{escape(item['title'])}</title><summary>{escape(item['summary'])}</summary>"
            f"<published>{item['published']}</published><updated>{item['updated']}</updated>"
            f'<link href={quoteattr(item["id"])} rel="alternate" type="text/html"/>'
            f'<link title="pdf" href={quoteattr(item["pdf"])} rel="related" '
            f'type="application/pdf"/>'
            f"<arxiv:primary_category term={quoteattr(item['category'])} "
            f'scheme="http://arxiv.org/schemas/atom"/>{authors}</entry>'
        )
    return ("\n".join(parts) + "</feed>").encode()


class FakeAPIs(ThreadingHTTPServer):
    """Hugging Face's papers API and arXiv's query API on one local port.

    ``search`` maps a query to its results, ``records`` an id to its paper record,
    ``arxiv`` a title phrase to its feed entries; ``faults`` maps a route (``("search",
    q)``, ``("record", id)``, ``("arxiv", phrase)``) to responses served first, in turn:
    ``(status, headers, body, delay)``.
    """

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.search: dict[str, list] = {}
        self.records: dict[str, dict] = {}
        self.arxiv: dict[str, list[dict]] = {}
        self.faults: dict[tuple, list] = {}
        self.requests: list[tuple] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, route: tuple) -> tuple:
        if self.faults.get(route):
            return self.faults[route].pop(0)
        kind, value = route
        if kind == "search":
            return json_answer(self.search.get(value, []))
        if kind == "record":
            record = self.records.get(value)
            return json_answer(record) if record else (404, {}, b'{"error": "Not Found"}', 0)
        if kind == "arxiv":
            return (
                200,
                {"Content-Type": "application/atom+xml"},
                atom_feed(self.arxiv.get(value, [])),
                0,
            )
        return (404, {}, b"", 0)


def json_answer(value) -> tuple:
    return (200, {"Content-Type": "application/json"}, json.dumps(value).encode(), 0)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        if url.path == "/api/papers/search":
            route = ("search", query.get("q"))
        elif url.path.startswith("/api/papers/"):
            route = ("record", url.path.rsplit("/", 1)[1])
        elif url.path == "/api/query":
            route = ("arxiv", query.get("search_query", "").removeprefix('ti:"').removesuffix('"'))
        else:
            route = ("other", url.path)
        self.server.requests.append(route)
        status, headers, body, delay = self.server.answer(route)
        send_answer(self, status, headers, body, delay)

    def log_message(self, *args):
        pass


@pytest.fixture
def apis():
    server = FakeAPIs()
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def listings(tmp_path):
    """A JSON listing of the papers the tests look up; one already has an arXiv id."""
    directory = tmp_path / "listings"
    directory.mkdir()
    write_listing(directory, [ATTENTION])
    return directory


def write_listing(directory, titles, name="papers.json", with_id=("Known Id Paper",)):
    items = [{"paper": {"title": title, "summary": "S"}} for title in titles]
    items += [{"paper": {"id": "2501.00001", "title": t, "summary": "S"}} for t in with_id]
    (directory / name).write_text(json.dumps(items), encoding="utf-8")


def enrich(apis, listings, cache, *extra):
    args = ["enrich", "--listings", str(listings), "--cache-dir", str(cache)]
    args += ["--hf-url", apis.url, "--arxiv-url", apis.url, "--delay", "0", "--backoff", "0.01"]
    return CliRunner().invoke(cli, args + list(extra), catch_exceptions=False)


def records(cache, source="huggingface"):
    return read_cache(cache / f"{source}.jsonl")


# ---- Matching -------------------------------------------------------------------------------


def test_an_exact_title_match_on_hugging_face_fills_the_cache(apis, listings, tmp_path):
    apis.search[ATTENTION] = [
        search_item("2501.99999", "Attention Is All You Need 2"),  # a near miss first
        search_item("1706.03762", "Attention is all you need."),  # case and punctuation
    ]
    apis.records["1706.03762"] = RECORD
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    assert apis.requests == [("search", ATTENTION), ("record", "1706.03762")]  # no arXiv
    record = records(cache)[ATTENTION_KEY]
    assert record["status"] == "matched" and record["title"] == ATTENTION
    assert record["match"] == {
        "arxiv_id": "1706.03762",
        "title": "Attention is All you Need",
        "authors": ["Ashish Vaswani", "Noam Shazeer"],
        "published": "2017-06-12",
        "upvotes": 42,
        "github_repo": "https://github.com/tensorflow/tensor2tensor",
        "github_stars": 15000,
        "project_page": "https://example.org/transformer",
        "ai_summary": "A network architecture based solely on attention.",
        "ai_keywords": ["Transformer", "self-attention"],
    }
    assert not (cache / "arxiv.jsonl").exists()  # arXiv was not asked: no empty file
    assert "Looked up 1 of 1 papers without an arXiv id (0 answered before): 1 matched " in (
        result.output
    )
    assert "(1 on Hugging Face, 0 on arXiv)" in result.output


def test_a_near_miss_is_not_a_match_and_arxiv_is_asked(apis, listings, tmp_path):
    apis.search[ATTENTION] = [
        search_item("2501.99999", "Attention Is All You Need 2"),
        search_item("2501.99998", "Attention Is All You Need: Extended"),
    ]
    apis.arxiv[ATTENTION_KEY] = [
        entry("1111.11111", title="Attention Is Not All You Need"),
        entry(title="Attention Is All\n   You Need"),  # arXiv wraps titles
    ]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    assert records(cache)[ATTENTION_KEY]["status"] == "not_found"
    assert "candidates" not in records(cache)[ATTENTION_KEY]
    assert apis.requests == [("search", ATTENTION), ("arxiv", ATTENTION_KEY)]
    arxiv = records(cache, "arxiv")[ATTENTION_KEY]
    assert arxiv["status"] == "matched"
    assert arxiv["match"] == {
        "arxiv_id": "1706.03762",
        "version": "7",
        "title": "Attention Is All You Need",
        "authors": ["Ashish Vaswani", "Noam Shazeer"],
        "published": "2017-06-12",
        "updated": "2023-08-02",
        "primary_category": "cs.CL",
        "pdf_url": "https://arxiv.org/pdf/1706.03762v7",
    }
    assert "1 matched (0 on Hugging Face, 1 on arXiv)" in result.output


def test_two_candidates_are_ambiguous_on_both_sources(apis, listings, tmp_path):
    apis.search[ATTENTION] = [
        search_item("2501.00002", "Attention is all you need"),
        search_item("2501.00003", "ATTENTION IS ALL YOU NEED!"),
        search_item("2501.00002", "Attention is all you need"),  # the same paper twice
    ]
    apis.arxiv[ATTENTION_KEY] = [entry("2501.00004"), entry("2501.00005")]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    hf = records(cache)[ATTENTION_KEY]
    assert hf["status"] == "ambiguous" and "match" not in hf
    assert hf["candidates"] == [
        {"arxiv_id": "2501.00002", "title": "Attention is all you need"},
        {"arxiv_id": "2501.00003", "title": "ATTENTION IS ALL YOU NEED!"},
    ]
    assert [c["arxiv_id"] for c in records(cache, "arxiv")[ATTENTION_KEY]["candidates"]] == [
        "2501.00004",
        "2501.00005",
    ]
    assert "0 matched (0 on Hugging Face, 0 on arXiv), 1 ambiguous" in result.output


def test_no_result_anywhere_is_not_found(apis, listings, tmp_path):
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    assert records(cache)[ATTENTION_KEY]["status"] == "not_found"
    assert records(cache, "arxiv")[ATTENTION_KEY]["status"] == "not_found"
    assert "1 not found, 0 failed." in result.output


# ---- The cache ------------------------------------------------------------------------------


def test_a_second_run_with_nothing_new_asks_nothing_and_changes_no_byte(apis, tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    write_listing(listings, ["Zeta Paper", ATTENTION, "Mu Paper"])
    apis.search[ATTENTION] = [search_item("1706.03762", ATTENTION)]
    apis.records["1706.03762"] = RECORD
    apis.arxiv["mu paper"] = [entry("2502.00001", title="Mu paper")]
    cache = tmp_path / "enrichment"
    assert enrich(apis, listings, cache).exit_code == 0
    before = {name: (cache / name).read_bytes() for name in ("huggingface.jsonl", "arxiv.jsonl")}
    mtimes = {name: (cache / name).stat().st_mtime_ns for name in before}
    asked = len(apis.requests)
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    assert len(apis.requests) == asked  # nothing asked again
    assert "Looked up 0 of 3 papers without an arXiv id (3 answered before)" in result.output
    assert "The cache is unchanged." in result.output
    for name, content in before.items():
        assert (cache / name).read_bytes() == content
        assert (cache / name).stat().st_mtime_ns == mtimes[name]  # not even rewritten
    assert sorted(p.name for p in cache.iterdir()) == ["arxiv.jsonl", "huggingface.jsonl"]


def test_the_cache_is_sorted_by_key_with_sorted_keys_one_object_a_line(apis, tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    write_listing(listings, ["Zeta Paper", "Alpha Paper", "Mu Paper"])
    cache = tmp_path / "enrichment"
    assert enrich(apis, listings, cache).exit_code == 0
    lines = (cache / "huggingface.jsonl").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    objects = [json.loads(line) for line in lines[:-1]]
    assert [o["key"] for o in objects] == ["alpha paper", "mu paper", "zeta paper"]
    for line, value in zip(lines, objects, strict=False):
        assert line == json.dumps(value, ensure_ascii=False, sort_keys=True)
        assert sorted(value) == ["fetched_at", "key", "status", "title"]
        assert len(value["fetched_at"]) == len("2025-08-14T10:00:00Z")


def test_refresh_and_older_than_ask_again(apis, listings, tmp_path):
    cache = tmp_path / "enrichment"
    cache.mkdir()
    old = {"fetched_at": "2000-01-01T00:00:00Z", "key": ATTENTION_KEY, "status": "not_found"}
    old |= {"title": ATTENTION}
    for name in ("huggingface.jsonl", "arxiv.jsonl"):
        (cache / name).write_text(cache_text({ATTENTION_KEY: old}), encoding="utf-8")
    assert enrich(apis, listings, cache).exit_code == 0
    assert apis.requests == []  # answered before
    assert enrich(apis, listings, cache, "--older-than", "30").exit_code == 0
    assert apis.requests == [("search", ATTENTION), ("arxiv", ATTENTION_KEY)]
    fresh = records(cache)[ATTENTION_KEY]["fetched_at"]
    assert fresh > "2000"
    assert enrich(apis, listings, cache, "--older-than", "30").exit_code == 0
    assert len(apis.requests) == 2  # now answered recently
    assert enrich(apis, listings, cache, "--refresh", "--sources", "hf").exit_code == 0
    assert apis.requests[2:] == [("search", ATTENTION)]


def test_a_bad_cache_line_is_an_error_naming_it(apis, listings, tmp_path):
    cache = tmp_path / "enrichment"
    cache.mkdir()
    (cache / "arxiv.jsonl").write_text('{"key": "a", "status": "matched"}\n', encoding="utf-8")
    result = enrich(apis, listings, cache)
    assert result.exit_code == 1
    assert f"Error: {cache / 'arxiv.jsonl'}:1: 'fetched_at' must be a time like" in result.output
    assert apis.requests == []


# ---- The network: retries, limits, failures -------------------------------------------------


def test_429_then_200_honours_retry_after(apis, listings, tmp_path):
    apis.faults[("search", ATTENTION)] = [(429, {"Retry-After": "0.2"}, b"slow down", 0)]
    apis.search[ATTENTION] = [search_item("1706.03762", ATTENTION)]
    apis.records["1706.03762"] = RECORD
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    assert "HTTP 429 Too Many Requests; retrying in 0.2 s (attempt 2 of 5)" in result.output
    assert apis.requests == [("search", ATTENTION)] * 2 + [("record", "1706.03762")]
    assert records(cache)[ATTENTION_KEY]["status"] == "matched"


def test_5xx_is_a_failure_recorded_and_asked_again_next_run(apis, listings, tmp_path):
    apis.faults[("search", ATTENTION)] = [(503, {}, b"busy", 0)] * 2
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--retries", "1")
    assert result.exit_code == 0, result.output
    failed = records(cache)[ATTENTION_KEY]
    assert failed["status"] == "failed"
    assert failed["error"].endswith("HTTP 503 Service Unavailable (gave up after 2 attempts)")
    assert "0 failed" not in result.output and "1 failed." in result.output
    assert apis.requests[-1] == ("arxiv", ATTENTION_KEY)  # arXiv still asked
    apis.search[ATTENTION] = [search_item("1706.03762", ATTENTION)]
    apis.records["1706.03762"] = RECORD
    again = enrich(apis, listings, cache)
    assert again.exit_code == 0, again.output
    assert records(cache)[ATTENTION_KEY]["status"] == "matched"


def test_a_timeout_is_a_failure(apis, listings, tmp_path):
    apis.faults[("search", ATTENTION)] = [(200, {}, b"[]", 1.0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--retries", "0", "--timeout", "0.2")
    assert result.exit_code == 0, result.output
    error = records(cache)[ATTENTION_KEY]["error"]
    assert error.endswith("network error: timed out (gave up after 1 attempts)")


def test_an_oversized_answer_is_refused(apis, listings, tmp_path):
    big = json.dumps([search_item("1706.03762", ATTENTION)] * 200).encode()
    apis.faults[("search", ATTENTION)] = [(200, {}, big, 0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--max-bytes", "10000")
    assert result.exit_code == 0, result.output
    error = records(cache)[ATTENTION_KEY]["error"]
    assert error.endswith("the response is larger than --max-bytes (10000 bytes)")


@pytest.mark.parametrize(
    ("route", "body", "message"),
    [
        (("search", ATTENTION), b'[{"paper": {"title": "Cut', "invalid JSON: Unterminated"),
        (("search", ATTENTION), b"\xff\xfe", "the answer is not UTF-8"),
        (("search", ATTENTION), b'{"papers": []}', "the search answered an object, not a list"),
        (("search", ATTENTION), b"[1]", "search result 1: expected an object with a 'paper'"),
        (
            ("search", ATTENTION),
            b'[{"paper": {"id": 1706.03762, "title": "T"}}]',
            "search result 1: paper.id must be a string, not a number",
        ),
        (
            ("search", ATTENTION),
            b'[{"paper": {"id": "../../etc", "title": "T"}}]',
            "search result 1: paper.id is not an arXiv id",
        ),
        (("search", ATTENTION), b"[" * 100_000, "invalid JSON"),
        (("record", "1706.03762"), b"[]", "the paper record is a list, not an object"),
        (
            ("record", "1706.03762"),
            json.dumps(RECORD | {"authors": "Vaswani"}).encode(),
            "record.authors must be a list, not a string",
        ),
        (
            ("record", "1706.03762"),
            json.dumps(RECORD | {"upvotes": "42"}).encode(),
            "record.upvotes must be a whole number, not a string",
        ),
        (
            ("record", "1706.03762"),
            json.dumps(RECORD | {"upvotes": -1}).encode(),
            "record.upvotes is out of range",
        ),
        (
            ("record", "1706.03762"),
            json.dumps(RECORD | {"publishedAt": "yesterday"}).encode(),
            "record.publishedAt: 'yesterday' is not a date",
        ),
        (
            ("record", "1706.03762"),
            json.dumps(RECORD | {"ai_summary": "x" * 30_000}).encode(),
            "record.ai_summary: a text longer than 20000 characters",
        ),
    ],
    ids=[
        "cut-off",
        "not-utf8",
        "not-a-list",
        "item-not-object",
        "id-number",
        "id-path",
        "too-deep",
        "record-list",
        "authors-string",
        "upvotes-string",
        "upvotes-negative",
        "bad-date",
        "text-too-long",
    ],
)
def test_malformed_json_is_a_failure_naming_the_problem(
    apis, listings, tmp_path, route, body, message
):
    apis.search[ATTENTION] = [search_item("1706.03762", ATTENTION)]
    apis.faults[route] = [(200, {}, body, 0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--sources", "hf")
    assert result.exit_code == 0, result.output
    record = records(cache)[ATTENTION_KEY]
    assert record["status"] == "failed"
    assert record["error"].startswith(f"bad response from {apis.url}: ")
    assert message in record["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<feed><entry>", "invalid XML"),
        (b"Rate exceeded.", "invalid XML"),
        (b'<feed xmlns="urn:other"/>', "expected an Atom feed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa">]>'
            b'<feed xmlns="http://www.w3.org/2005/Atom">&a;</feed>',
            "the feed declares a document type or entities; refused",
        ),
        (
            atom_feed(
                [entry() | {"id": "http://arxiv.org/api/errors#bad", "summary": "bad query"}]
            ),
            "arXiv answered with an error: bad query",
        ),
        (atom_feed([entry() | {"id": "javascript:alert(1)"}]), "entry 1: <id> is not an arXiv"),
        (atom_feed([entry(published="soon")]), "entry 1: 'soon' is not a date"),
    ],
    ids=["cut-off", "plain-text", "not-atom", "entities", "error-entry", "bad-id", "bad-date"],
)
def test_malformed_xml_is_a_failure_naming_the_problem(apis, listings, tmp_path, body, message):
    apis.faults[("arxiv", ATTENTION_KEY)] = [(200, {}, body, 0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--sources", "arxiv")
    assert result.exit_code == 0, result.output
    record = records(cache, "arxiv")[ATTENTION_KEY]
    assert record["status"] == "failed" and message in record["error"]
    assert not (cache / "huggingface.jsonl").exists()


HOSTILE = "\x1b[2J\x1b]0;owned\x07<script>alert(1)</script>\u2028{{ x }}\x00 \ud800"


def test_hostile_text_in_every_field_stays_text(apis, listings, tmp_path):
    apis.search[ATTENTION] = [search_item("1706.03762", ATTENTION + "\x07")]
    apis.records["1706.03762"] = {
        "id": "1706.03762",
        "title": HOSTILE,
        "authors": [{"name": HOSTILE}, {"name": "\x00\x1b"}],
        "publishedAt": "2017-06-12T17:57:34.000Z",
        "upvotes": 1,
        "githubRepo": "javascript:alert(1)",
        "githubStars": 2,
        "projectPage": "data:text/html,<script>alert(1)</script>",
        "ai_summary": HOSTILE,
        "ai_keywords": [HOSTILE, "\x7f"],
    }
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache)
    assert result.exit_code == 0, result.output
    match = records(cache)[ATTENTION_KEY]["match"]
    shown = "[2J]0;owned<script>alert(1)</script> {{ x }} \ufffd"
    assert match == {
        "arxiv_id": "1706.03762",
        "title": shown,
        "authors": [shown],
        "published": "2017-06-12",
        "upvotes": 1,
        "github_stars": 2,
        "ai_summary": shown,
        "ai_keywords": [shown],
    }  # URLs of other schemes dropped, control characters out, markup kept as text
    text = (cache / "huggingface.jsonl").read_text(encoding="utf-8")
    assert not any(ord(c) < 32 and c != "\n" for c in text) and "\u2028" not in text
    assert "\x1b" not in result.output


def test_hostile_text_from_arxiv_stays_text(apis, listings, tmp_path):
    hostile = "\x1b[31m<b>Name</b>\x85"
    xml_safe = hostile.replace("\x1b", "")  # XML 1.0 cannot carry ESC at all
    apis.arxiv[ATTENTION_KEY] = [
        entry(authors=[xml_safe, "&lt;i&gt;"], category=xml_safe, pdf="javascript:alert(1)")
    ]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--sources", "arxiv")
    assert result.exit_code == 0, result.output
    match = records(cache, "arxiv")[ATTENTION_KEY]["match"]
    assert match["authors"] == ["[31m<b>Name</b>", "&lt;i&gt;"]
    assert match["primary_category"] == "[31m<b>Name</b>"
    assert "pdf_url" not in match


def test_a_redirect_to_another_host_names_the_option(apis, listings, tmp_path):
    location = {"Location": "http://localhost:1/api/papers/search?q=x"}
    apis.faults[("search", ATTENTION)] = [(302, location, b"", 0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--sources", "hf")
    assert result.exit_code == 0, result.output
    assert records(cache)[ATTENTION_KEY]["error"].endswith(
        "redirected to other host http://localhost:1; refusing "
        "(pass --hf-url http://localhost:1 to fetch from it)"
    )


# ---- The run: selection, stopping, errors ---------------------------------------------------


def test_the_deadline_stops_the_run_and_keeps_what_was_found(apis, tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    write_listing(listings, ["Alpha Paper", "Beta Paper", "Gamma Paper"])
    apis.faults[("search", "Beta Paper")] = [(200, {}, b"[]", 3.0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--deadline", "1", "--sources", "hf")
    assert result.exit_code == 0, result.output
    assert "Stopped early: the --deadline of 1 s passed." in result.output
    assert "2 papers left for a later run." in result.output
    assert list(records(cache)) == ["alpha paper"]  # Beta was not answered: not recorded


def test_failures_in_a_row_stop_the_run(apis, tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    titles = ["Alpha Paper", "Beta Paper", "Gamma Paper", "Delta Paper"]
    write_listing(listings, titles)
    for title in titles:
        apis.faults[("search", title)] = [(500, {}, b"down", 0)]
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--retries", "0", "--sources", "hf")
    assert result.exit_code == 0, result.output
    assert "Stopped early: 3 papers failed in a row." in result.output
    assert "1 papers left for a later run." in result.output
    assert len(apis.requests) == 3
    assert [r["status"] for r in records(cache).values()] == ["failed"] * 3


def test_limit_and_only_choose_the_papers(apis, tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    write_listing(listings, ["Alpha Paper", "Beta Paper", "Gamma Paper"])
    cache = tmp_path / "enrichment"
    result = enrich(apis, listings, cache, "--limit", "1", "--sources", "hf")
    assert apis.requests == [("search", "Alpha Paper")]
    assert "2 papers left for a later run." in result.output
    enrich(apis, listings, cache, "--only", "gamma-paper", "--sources", "hf")
    assert apis.requests[1:] == [("search", "Gamma Paper")]
    missing = enrich(apis, listings, cache, "--only", "no-such-paper")
    assert missing.exit_code == 1
    assert "Error: --only 'no-such-paper': no paper has this slug" in missing.output
    known = enrich(apis, listings, cache, "--only", "known-id-paper")
    assert known.exit_code == 0 and "Looked up 0 of 0 papers" in known.output


def test_the_papers_come_from_the_built_database_read_only(apis, tmp_path):
    from papershelf.store.pipeline import build_database

    from .conftest import TOPICS

    listings = tmp_path / "listings"
    listings.mkdir()
    write_listing(listings, [ATTENTION])
    db = tmp_path / "papers.db"
    build_database(listings, TOPICS, db)
    before = db.read_bytes()
    cache = tmp_path / "enrichment"
    args = ["enrich", "--db", str(db), "--cache-dir", str(cache), "--delay", "0"]
    args += ["--hf-url", apis.url, "--arxiv-url", apis.url]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert apis.requests == [
        ("search", ATTENTION),
        ("arxiv", ATTENTION_KEY),
    ]  # not the one with an id
    assert db.read_bytes() == before
    missing = CliRunner().invoke(cli, ["enrich", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1
    assert "no such database; run 'python build.py db' first or pass --listings" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sources", "hf,crossref"], "--sources 'hf,crossref': give one or both of hf, arxiv"),
        (["--hf-url", "file:///etc"], "--hf-url 'file:///etc' is not an http:// or https:// URL"),
        (["--arxiv-url", "ftp://x"], "--arxiv-url 'ftp://x' is not an http:// or https:// URL"),
    ],
)
def test_bad_options_are_refused_before_asking(apis, listings, tmp_path, args, message):
    result = enrich(apis, listings, tmp_path / "enrichment", *args)
    assert result.exit_code == 1 and f"Error: {message}" in result.output
    assert apis.requests == [] and not (tmp_path / "enrichment").exists()


def test_no_temporary_file_is_left_beside_the_cache(apis, listings, tmp_path):
    apis.faults[("search", ATTENTION)] = [(500, {}, b"down", 0)]
    cache = tmp_path / "enrichment"
    assert enrich(apis, listings, cache, "--retries", "0").exit_code == 0
    assert sorted(p.name for p in cache.iterdir()) == ["arxiv.jsonl", "huggingface.jsonl"]


def test_requests_to_one_server_are_spaced_by_the_delay(apis, tmp_path):
    listings = tmp_path / "listings"
    listings.mkdir()
    write_listing(listings, ["Alpha Paper", "Beta Paper", "Gamma Paper"])
    times = []
    answer = apis.answer
    apis.answer = lambda route: times.append(time.monotonic()) or answer(route)
    args = ["enrich", "--listings", str(listings), "--cache-dir", str(tmp_path / "cache")]
    args += ["--hf-url", apis.url, "--sources", "hf", "--delay", "0.3"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(times) == 3
    assert all(later - earlier >= 0.3 for earlier, later in itertools.pairwise(times))


def test_default_delays_follow_each_services_terms():
    assert options_from("hf,arxiv").delays == {"hf": 1.0, "arxiv": 3.0}
    assert options_from("arxiv", delay=0.5).delays == {"hf": 0.5, "arxiv": 0.5}
    assert options_from(" arxiv , hf ").sources == ("hf", "arxiv")  # Hugging Face first
