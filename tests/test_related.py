import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from papershelf.collection.papers import arrival_order, merge_listings
from papershelf.collection.related import (
    Background,
    _tfidf,
    basis_rows,
    basis_size,
    next_basis_size,
    related_papers,
)
from papershelf.errors import RelatedError
from papershelf.ingest.formats import read_listing

from .conftest import LISTINGS


def _inputs(real_db):
    db = sqlite_utils.Database(real_db)
    papers = list(db["papers"].rows_where(order_by="slug"))
    topics = {}
    for row in db["paper_topics"].rows:
        topics.setdefault(row["paper"], set()).add(row["topic"])
    return (
        [p["slug"] for p in papers],
        [f"{p['title']}. {p['title']}. {p['abstract']}" for p in papers],
        [topics.get(p["slug"], set()) for p in papers],
    )


def test_exact_related_papers_are_ranked_and_deterministic(real_db):
    slugs, texts, topics = _inputs(real_db)
    first = related_papers(slugs, texts, topics)
    assert first == related_papers(slugs, texts, topics)
    by_paper = {}
    for item in first:
        by_paper.setdefault(item.paper, []).append(item)
    for paper, items in by_paper.items():
        assert [i.rank for i in items] == list(range(1, len(items) + 1))
        assert all(i.related != paper for i in items)
        scores = [i.score for i in items]
        assert scores == sorted(scores, reverse=True)


def test_approximate_path_finds_most_of_the_exact_neighbours(real_db):
    slugs, texts, topics = _inputs(real_db)
    exact = related_papers(slugs, texts, topics)
    approximate = related_papers(slugs, texts, topics, exact_limit=50)
    assert approximate == related_papers(slugs, texts, topics, exact_limit=50)  # deterministic
    exact_pairs = {(r.paper, r.related) for r in exact}
    approximate_pairs = {(r.paper, r.related) for r in approximate}
    assert len(approximate_pairs) >= 0.9 * len(exact_pairs)
    assert len(exact_pairs & approximate_pairs) >= 0.4 * len(exact_pairs)


def test_topic_bonus_breaks_text_ties():
    slugs = ["a", "b", "c"]
    texts = ["lora adapters tuning", "lora adapters tuning", "lora adapters tuning"]
    result = related_papers(slugs, texts, [{"peft"}, set(), {"peft"}])
    first_of_a = next(r for r in result if r.paper == "a" and r.rank == 1)
    assert (first_of_a.related, first_of_a.shared_topics) == ("c", 1)
    assert first_of_a.score == round(first_of_a.similarity + 0.04, 4)


def test_background_process_gives_the_in_process_result(real_db):
    slugs, texts, topics = _inputs(real_db)
    background = Background()
    background.start(slugs, texts)
    background.score(topics)
    assert background.result() == related_papers(slugs, texts, topics)
    assert background.seconds > 0


def test_background_process_refuses_more_topics_than_fit_and_ends_its_child():
    background = Background()
    background.start(["a", "b"], ["lora tuning", "lora adapters"])
    child = background._process
    with pytest.raises(RelatedError, match="65 topics have papers, .* at most 64"):
        background.score([{f"topic-{i}" for i in range(65)}, set()])  # more than 64 topics
    assert not child.is_alive() and background._process is None


def test_the_basis_grows_by_a_quarter_at_a_time():
    sizes = [basis_size(n) for n in range(0, 20_000)]
    assert sizes[:9] == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert all(size <= n for n, size in enumerate(sizes))
    assert sizes == sorted(sizes)
    steps = sorted(set(sizes[1:]))
    assert all(b == a + max(1, a // 4) for a, b in zip(steps, steps[1:], strict=False))
    assert (basis_size(10_000), basis_size(10_100), next_basis_size(10_000)) == (8282, 8282, 10352)
    assert basis_size(290) == 235  # the real listings: 3 more papers grow the basis


def _lists(related):
    lists = {}
    for item in related:
        lists.setdefault(item.paper, []).append((item.related, item.score, item.similarity))
    return lists


@pytest.mark.parametrize(
    "exact_limit",
    [
        5000,  # every pair scored, before and after
        287,  # 285 papers before, 290 after: the basis (235), not the count, decides the method
    ],
)
def test_new_papers_change_an_earlier_paper_s_list_only_where_they_enter_it(real_db, exact_limit):
    slugs, texts, topics = _inputs(real_db)
    new = set(slugs[3::60])  # 5 papers arrive last; the basis stays the same size
    earlier = [i for i, slug in enumerate(slugs) if slug not in new]
    assert basis_size(len(earlier)) == basis_size(len(slugs))
    before = _lists(
        related_papers(
            [slugs[i] for i in earlier],
            [texts[i] for i in earlier],
            [topics[i] for i in earlier],
            exact_limit=exact_limit,
        )
    )
    arrival = earlier + [i for i, slug in enumerate(slugs) if slug in new]
    after = _lists(related_papers(slugs, texts, topics, exact_limit=exact_limit, arrival=arrival))
    changed = 0
    for paper, listed in before.items():
        kept = [item for item in after[paper] if item[0] not in new]
        assert kept == listed[: len(kept)], paper  # same scores, same order: vectors unchanged
        changed += after[paper] != listed
    assert 0 < changed < len(before) / 4


def test_the_basis_is_the_first_papers_to_arrive():
    assert basis_size(9) == 8
    assert basis_rows(9, [8, 7, 6, 5, 4, 3, 2, 1, 0]).tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert basis_rows(9).tolist() == [0, 1, 2, 3, 4, 5, 6, 7]  # by default, as given
    with pytest.raises(ValueError):
        basis_rows(9, [0, 1])


def test_papers_arrive_by_their_first_listing_then_rank():
    listings = [read_listing(path) for path in sorted(LISTINGS.iterdir())]
    papers, _ = merge_listings(listings)
    order = [papers[i] for i in arrival_order(listings, papers)]
    first = [(a.source, a.rank) for a in order[0].appearances]
    assert min(first) == (listings[0].source, 1)
    sources = [listing.source for listing in listings]
    keys = [min((sources.index(a.source), a.rank) for a in p.appearances) for p in order]
    assert keys == sorted(keys)


def test_background_process_cancelled_before_any_text_ends_its_child():
    """The child is forked before the inputs are parsed: bad input must end it too."""
    background = Background()
    child = background._process
    background.cancel()
    assert not child.is_alive() and background._process is None


def _running(pid: int) -> bool:
    """Whether the process exists and has not ended (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_the_related_process_ends_when_the_build_is_killed():
    script = (
        "import os, signal\n"
        "from papershelf.collection.related import Background\n"
        "background = Background()\n"
        "print(background._process.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)  # no clean-up: a kill -9, an out-of-memory kill\n"
    )
    # Not run(): an orphaned child would hold the output pipe open, and run() would wait.
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as build:
        child = int(build.stdout.readline())
        build.wait()
    try:
        deadline = time.monotonic() + 60  # a bound on waiting, not a speed check
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child)
    finally:
        if _running(child):
            os.kill(child, signal.SIGKILL)


def test_a_large_collection_s_words_are_those_of_a_vocabulary_fitted_on_the_basis(real_db):
    """Every text is read once; the vectors must be those of scikit-learn's own
    ``min_df=2, max_df=0.5`` vocabulary fitted on the basis, to the order of the stored
    indices (the sums of products follow it)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    _, texts, _ = _inputs(real_db)
    basis = basis_rows(len(texts))
    fitted = CountVectorizer(stop_words="english", min_df=2, max_df=0.5, dtype=np.float32)
    counts = fitted.fit([texts[i] for i in basis]).transform(texts)
    expected = TfidfTransformer(sublinear_tf=True).fit(counts[basis]).transform(counts)
    vectors = _tfidf(texts, basis, large=True)
    assert len(basis) < len(texts)  # some texts have words outside the basis
    assert vectors.shape == expected.shape
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(vectors, part), getattr(expected, part)), part
