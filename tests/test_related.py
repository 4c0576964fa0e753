import pytest
import sqlite_utils

from papershelf.collection.related import Background, related_papers
from papershelf.errors import RelatedError


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
    background = Background(slugs, texts)
    background.score(topics)
    assert background.result() == related_papers(slugs, texts, topics)
    assert background.seconds > 0


def test_background_process_refuses_more_topics_than_fit_and_ends_its_child():
    background = Background(["a", "b"], ["lora tuning", "lora adapters"])
    child = background._process
    with pytest.raises(RelatedError, match="65 topics have papers, .* at most 64"):
        background.score([{f"topic-{i}" for i in range(65)}, set()])  # more than 64 topics
    assert not child.is_alive() and background._process is None
