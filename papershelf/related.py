"""Related papers, computed offline and deterministically.

The score of a pair is the cosine similarity of the papers' TF-IDF vectors (title
counted twice, then abstract) plus a bonus for each topic they share. For each paper
the best ``per_paper`` others are kept, ties going to the smaller slug.

Up to ``EXACT_LIMIT`` papers every pair is scored, a chunk of rows at a time, so memory
grows with ``CHUNK * papers``, never ``papers ** 2``. Beyond it, the TF-IDF vectors are
projected to ``COMPONENTS`` dimensions (latent semantic analysis) and a nearest-neighbour
index (faiss, inverted lists) proposes ``CANDIDATES`` papers per paper, which are then
scored exactly as above: the cost grows about linearly with the number of papers.
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
EXACT_LIMIT = 5000
COMPONENTS = 96
CANDIDATES = 32
_SCALE = 1_000_000  # scores are compared at 6 decimals, so float noise cannot reorder ties


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
    exact_limit: int = EXACT_LIMIT,
) -> list[Related]:
    """For each paper, up to ``per_paper`` others, best first (ties broken by slug)."""
    n = len(slugs)
    if n < 2:
        return []
    order = np.argsort(np.array(slugs, dtype=object), kind="stable")
    slug_rank = np.empty(n, dtype=np.int64)
    slug_rank[order] = np.arange(n)
    masks = _topic_masks(topics)
    large = n > exact_limit
    vectors = TfidfVectorizer(
        stop_words="english",
        sublinear_tf=True,
        min_df=2 if large else 1,
        max_df=0.5 if large else 1.0,
        dtype=np.float32,
    ).fit_transform(texts)
    k = min(per_paper, n - 1)
    candidates = _approximate_neighbours(vectors, min(CANDIDATES, n - 1)) if large else None

    results: list[Related] = []
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        rows = np.arange(start, stop)
        if large:
            columns = candidates[start:stop]
            sim = _pair_cosines(vectors, rows, columns)
        else:
            sim = (vectors[start:stop] @ vectors.T).toarray()
            columns = np.broadcast_to(np.arange(n), sim.shape)
        shared = np.bitwise_count(masks[rows][:, None] & masks[columns]).astype(np.int64)
        score = np.round(
            (sim + TOPIC_BONUS * np.minimum(shared, MAX_SHARED_TOPICS)) * _SCALE
        ).astype(np.int64)
        score[columns == rows[:, None]] = -_SCALE  # never a paper itself
        score[columns < 0] = -_SCALE  # no candidate
        # One integer key per pair: higher score first, then the smaller slug.
        key = -score * (n + 1) + slug_rank[np.maximum(columns, 0)]
        if k < key.shape[1]:
            best = np.argpartition(key, k - 1, axis=1)[:, :k]
            best = np.take_along_axis(best, np.argsort(np.take_along_axis(key, best, 1), 1), 1)
        else:
            best = np.argsort(key, axis=1)
        for offset, i in enumerate(rows):
            kept = [p for p in best[offset] if score[offset, p] >= MIN_SCORE * _SCALE]
            for rank, position in enumerate(kept, start=1):
                text_similarity = float(sim[offset, position])
                common = int(shared[offset, position])
                results.append(
                    Related(
                        paper=slugs[i],
                        related=slugs[int(columns[offset, position])],
                        rank=rank,
                        score=round(
                            text_similarity + TOPIC_BONUS * min(common, MAX_SHARED_TOPICS), 4
                        ),
                        similarity=round(text_similarity, 4),
                        shared_topics=common,
                    )
                )
    return results


def _topic_masks(topics: list[set[str]]) -> np.ndarray:
    """Each paper's topics as the bits of one integer."""
    names = sorted({t for paper_topics in topics for t in paper_topics})
    if len(names) > 64:
        raise ValueError("the related-papers stage supports at most 64 topics")
    bit = {name: np.uint64(1) << np.uint64(i) for i, name in enumerate(names)}
    masks = np.zeros(len(topics), dtype=np.uint64)
    for row, paper_topics in enumerate(topics):
        for name in paper_topics:
            masks[row] |= bit[name]
    return masks


def _pair_cosines(vectors: sparse.csr_matrix, rows: np.ndarray, columns: np.ndarray):
    """The TF-IDF cosine of each row with each of its candidate columns (-1: none)."""
    left = vectors[np.repeat(rows, columns.shape[1])]
    right = vectors[np.maximum(columns, 0).ravel()]
    cosines = np.asarray(left.multiply(right).sum(axis=1)).reshape(columns.shape)
    return np.where(columns >= 0, cosines, 0.0)


def _approximate_neighbours(vectors: sparse.csr_matrix, count: int) -> np.ndarray:
    """``count`` candidate neighbours per row (and the row itself), found by a
    nearest-neighbour index over a low-dimensional projection of the vectors."""
    import faiss
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    components = min(COMPONENTS, vectors.shape[1] - 1)
    dense = TruncatedSVD(components, algorithm="randomized", n_iter=4, random_state=0)
    projected = normalize(dense.fit_transform(vectors)).astype(np.float32)
    n, dimensions = projected.shape
    lists = max(1, int(np.sqrt(n)))  # faiss wants about 39 training points per list
    quantizer = faiss.IndexFlatIP(dimensions)
    index = faiss.IndexIVFFlat(quantizer, dimensions, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = 0
    index.train(projected)
    index.add(projected)
    index.nprobe = 16
    _, candidates = index.search(projected, count + 1)
    return candidates.astype(np.int64)
