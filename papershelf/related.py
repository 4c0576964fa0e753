"""Related papers, computed offline and deterministically.

Similarity is the cosine of TF-IDF vectors of title (counted twice) and abstract, plus a
small bonus for each topic two papers share. Rows are compared a chunk at a time, so
memory grows with ``chunk * papers``, never ``papers ** 2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

RELATED_PER_PAPER = 8
TOPIC_BONUS = 0.04  # per shared topic, up to MAX_SHARED_TOPICS
MAX_SHARED_TOPICS = 3
MIN_SCORE = 0.05
CHUNK = 512


@dataclass(frozen=True)
class Related:
    paper: str
    related: str
    rank: int
    score: float
    similarity: float  # the text part of the score
    shared_topics: int


def related_papers(
    slugs: list[str],
    texts: list[str],
    topics: list[set[str]],
    per_paper: int = RELATED_PER_PAPER,
) -> list[Related]:
    """For each paper, up to ``per_paper`` others, best first (ties broken by slug)."""
    n = len(slugs)
    if n < 2:
        return []
    vectors = TfidfVectorizer(
        stop_words="english", sublinear_tf=True, min_df=1, dtype=np.float32
    ).fit_transform(texts)
    topic_ids = sorted({t for paper_topics in topics for t in paper_topics})
    column = {t: i for i, t in enumerate(topic_ids)}
    rows = [i for i, paper_topics in enumerate(topics) for _ in paper_topics]
    cols = [column[t] for paper_topics in topics for t in sorted(paper_topics)]
    topic_matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, max(len(topic_ids), 1))
    )
    order = np.argsort(np.array(slugs, dtype=object))  # ties go to the smaller slug
    rank_of = np.empty(n, dtype=np.int64)
    rank_of[order] = np.arange(n)

    results: list[Related] = []
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        similarity = (vectors[start:stop] @ vectors.T).toarray()
        shared = (topic_matrix[start:stop] @ topic_matrix.T).toarray()
        score = similarity + TOPIC_BONUS * np.minimum(shared, MAX_SHARED_TOPICS)
        score[np.arange(stop - start), np.arange(start, stop)] = -1.0  # not itself
        score = np.round(score, 6)  # so that float noise cannot reorder ties
        k = min(per_paper, n - 1)
        for offset in range(stop - start):
            row = score[offset]
            candidates = np.argpartition(-row, k - 1)[:k] if k < n else np.arange(n)
            # Take every paper tied with the k-th best, then order by score and slug.
            threshold = row[candidates].min()
            candidates = np.nonzero(row >= threshold)[0]
            best = sorted(candidates, key=lambda j: (-row[j], rank_of[j]))[:k]
            i = start + offset
            kept = [j for j in best if row[j] >= MIN_SCORE]
            for rank, j in enumerate(kept, start=1):
                results.append(
                    Related(
                        paper=slugs[i],
                        related=slugs[j],
                        rank=rank,
                        score=round(float(row[j]), 4),
                        similarity=round(float(similarity[offset, j]), 4),
                        shared_topics=int(shared[offset, j]),
                    )
                )
    return results
