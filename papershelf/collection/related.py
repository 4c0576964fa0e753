"""Related papers, computed offline and deterministically.

The score of a pair is the cosine similarity of the papers' TF-IDF vectors (title
counted twice, then abstract) plus a bonus for each topic they share. For each paper
the best ``per_paper`` others are kept, ties going to the smaller slug.

The vocabulary and its IDF weights come from a *basis*: the papers that arrived first
(see :func:`basis_rows`), whose number grows in steps of a quarter. Adding a few papers
therefore leaves every earlier paper's vector exactly as it was, and while every pair is
scored an earlier paper's list changes only where a new paper enters it (with the index
below, a new paper can also take another's place among a paper's candidates). A full
build from the same inputs picks the same basis, so an incremental build and a full one
give the same lists.

While the basis has at most ``EXACT_LIMIT`` papers, every pair is scored, a chunk of rows
at a time, so memory grows with ``CHUNK * papers``, never ``papers ** 2`` (the method, too,
changes only when the basis grows). Beyond it, the TF-IDF vectors are
projected to ``COMPONENTS`` dimensions (latent semantic analysis) and a nearest-neighbour
index (faiss, inverted lists) proposes ``CANDIDATES`` papers per paper, which are then
scored exactly as above: the cost grows about linearly with the number of papers. The
projection and the index's lists are fitted on the basis too.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import threading
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ..errors import PapershelfError, RelatedError
from ..imports import pandas_hidden

if TYPE_CHECKING:
    from scipy import sparse

RELATED_PER_PAPER = 8
TOPIC_BONUS = 0.04  # per shared topic, up to MAX_SHARED_TOPICS
MAX_SHARED_TOPICS = 3
MIN_SCORE = 0.05
CHUNK = 512
EXACT_LIMIT = 5000
COMPONENTS = 64
CANDIDATES = 32
NPROBE = 8  # of sqrt(N) lists: about 0.87 of the exact neighbours at 10,000 papers
MAX_TOPICS = 64  # the bits of the integer that holds a paper's topics
_SCALE = 1_000_000  # scores are compared at 6 decimals, so float noise cannot reorder ties
# The basis grows by a quarter at a time: 1, 2, 3, … 235, 293, … 8282, 10352, …
BASIS_GROWTH = 4  # each basis size is the previous one plus a 1/BASIS_GROWTH part


class Related(NamedTuple):
    """One related pair (a named tuple: a collection holds hundreds of thousands)."""

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
    arrival: Sequence[int] | None = None,
) -> list[Related]:
    """For each paper, up to ``per_paper`` others, best first (ties broken by slug).
    ``arrival``: the papers' rows in the order they arrived (by default as given)."""
    vectors, candidates = _vectors(texts, basis_rows(len(texts), arrival), exact_limit)
    return _as_rows(slugs, _best_pairs(slugs, vectors, candidates, topics, per_paper))


def basis_size(papers: int) -> int:
    """How many papers the vocabulary and IDF come from: the largest of 1, 2, 3, … (each
    a quarter more than the one before, rounded down) that is not above ``papers``."""
    size = 1 if papers else 0
    while _grown(size) <= papers:
        size = _grown(size)
    return size


def next_basis_size(papers: int) -> int:
    """At how many papers the basis grows next (and every paper's vector may change)."""
    return _grown(basis_size(papers))


def _grown(size: int) -> int:
    """The basis size after ``size``."""
    return size + max(1, size // BASIS_GROWTH)


def basis_rows(papers: int, arrival: Sequence[int] | None = None) -> np.ndarray:
    """The rows of the basis, sorted: the first :func:`basis_size` papers to arrive."""
    order = np.arange(papers) if arrival is None else np.asarray(arrival, dtype=np.int64)
    if len(order) != papers:
        raise ValueError(f"arrival orders {len(order)} papers, not {papers}")
    return np.sort(order[: basis_size(papers)])


def _as_rows(slugs: list[str], columns: tuple[np.ndarray, ...]) -> list[Related]:
    paper, related, rank, score, similarity, shared = columns
    return list(
        map(
            Related._make,
            zip(
                [slugs[i] for i in paper.tolist()],
                [slugs[j] for j in related.tolist()],
                rank.tolist(),
                score.tolist(),
                similarity.tolist(),
                shared.tolist(),
                strict=True,
            ),
        )
    )


def _vectors(texts: list[str], basis: np.ndarray, exact_limit: int = EXACT_LIMIT):
    """TF-IDF vectors, and above ``exact_limit`` papers in the basis the candidate
    neighbours of each (None: every pair is a candidate). The part that needs no topics."""
    from threadpoolctl import threadpool_limits

    # One thread for BLAS (the projection) and OpenMP (faiss): the work comes in pieces
    # too small to share, and this process already runs beside the main one. Threads
    # there multiplied the projection's CPU time by seven on two cores, and a result
    # that does not depend on the machine's cores is reproducible anywhere.
    with threadpool_limits(1):
        return _tfidf_and_candidates(texts, basis, exact_limit)


def _import_for_vectors() -> None:
    """What :func:`_vectors` imports for every collection, imported ahead (the related
    process does it while the main one parses)."""
    import threadpoolctl  # noqa: F401

    with pandas_hidden():  # a quarter of a second scikit-learn would spend on it
        import sklearn.feature_extraction.text  # noqa: F401


def _tfidf_and_candidates(texts: list[str], basis: np.ndarray, exact_limit: int):
    n = len(texts)
    if n < 2:
        return None, None
    # Decided by the basis, so that the method changes only when the basis grows.
    large = len(basis) > exact_limit
    try:
        vectors = _tfidf(texts, basis, large)
    except ValueError:  # no word is kept (only stop words): no text is like another
        from scipy import sparse

        return sparse.csr_matrix((n, 1), dtype=np.float32), None
    if not large:
        return vectors, None
    return vectors, _approximate_neighbours(vectors, basis, min(CANDIDATES, n - 1))


def _tfidf(texts: list[str], basis: np.ndarray, large: bool) -> sparse.csr_matrix:
    """Sublinear TF-IDF vectors with IDF weights from the basis. A word no paper of the
    basis has gets the highest weight; a large collection keeps only the words of the
    basis (in at least two of its papers and at most half), to bound the vectors' size."""
    # Imported here, not at start-up: scikit-learn takes a second to import, and
    # every command (``--help`` included) imports this module.
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    counts = CountVectorizer(stop_words="english", dtype=np.float32).fit_transform(texts)
    if large:
        counts = counts[:, _basis_words(counts[basis])]
        counts.sort_indices()  # as the counts of a fitted vocabulary come
    return TfidfTransformer(sublinear_tf=True).fit(counts[basis]).transform(counts)


def _basis_words(basis_counts: sparse.csr_matrix) -> np.ndarray:
    """The columns of the words in at least two papers of the basis and at most half.
    Every text is read once: these columns of the counts of every word are the counts a
    vocabulary fitted on the basis alone gives (``min_df=2, max_df=0.5``), in the same
    order (both sorted by word), at half the cost of reading the texts twice."""
    papers = np.bincount(basis_counts.indices, minlength=basis_counts.shape[1])
    kept = np.flatnonzero((papers >= 2) & (papers <= 0.5 * basis_counts.shape[0]))
    if not len(kept):
        raise ValueError("no word of the basis is kept")
    return kept


def _best_pairs(
    slugs: list[str],
    vectors: sparse.csr_matrix | None,
    candidates: np.ndarray | None,
    topics: list[set[str]],
    per_paper: int = RELATED_PER_PAPER,
) -> tuple[np.ndarray, ...]:
    """The kept pairs as columns: paper, related, rank, score, similarity, shared topics
    (papers as row numbers), a chunk of rows at a time."""
    n = len(slugs)
    if n < 2:
        return tuple(
            np.zeros(0, dtype) for dtype in (np.int64,) * 3 + (np.float64,) * 2 + (np.int64,)
        )
    order = np.argsort(np.array(slugs, dtype=object), kind="stable")
    slug_rank = np.empty(n, dtype=np.int64)
    slug_rank[order] = np.arange(n)
    masks = _topic_masks(topics)
    k = min(per_paper, n - 1)
    chunks = [
        _chunk_pairs(
            np.arange(start, min(start + CHUNK, n)), vectors, candidates, masks, slug_rank, k
        )
        for start in range(0, n, CHUNK)
    ]
    return tuple(np.concatenate(column) for column in zip(*chunks, strict=True))


def _chunk_pairs(
    rows: np.ndarray,
    vectors: sparse.csr_matrix,
    candidates: np.ndarray | None,
    masks: np.ndarray,
    slug_rank: np.ndarray,
    k: int,
) -> tuple[np.ndarray, ...]:
    """:func:`_best_pairs` for the papers ``rows``: the best ``k`` others of each."""
    if candidates is not None:
        columns = candidates[rows[0] : rows[-1] + 1]
        sim = _pair_cosines(vectors, rows, columns)
    else:
        sim = (vectors[rows[0] : rows[-1] + 1] @ vectors.T).toarray()
        columns = np.broadcast_to(np.arange(len(slug_rank)), sim.shape)
    shared = np.bitwise_count(masks[rows][:, None] & masks[columns]).astype(np.int64)
    score = np.round((sim + TOPIC_BONUS * np.minimum(shared, MAX_SHARED_TOPICS)) * _SCALE)
    score = score.astype(np.int64)
    score[columns == rows[:, None]] = -_SCALE  # never a paper itself
    score[columns < 0] = -_SCALE  # no candidate
    best = _best_first(score, columns, slug_rank, k)
    # Best first, so the pairs above MIN_SCORE are a prefix of each row: their ranks are
    # their positions.
    kept = np.take_along_axis(score, best, 1) >= MIN_SCORE * _SCALE
    similarity = np.take_along_axis(sim, best, 1)[kept].astype(np.float64)
    common = np.take_along_axis(shared, best, 1)[kept]
    bonus = TOPIC_BONUS * np.minimum(common, MAX_SHARED_TOPICS)
    return (
        np.broadcast_to(rows[:, None], best.shape)[kept],
        np.take_along_axis(columns, best, 1)[kept],
        np.broadcast_to(np.arange(1, best.shape[1] + 1), best.shape)[kept],
        np.round(similarity + bonus, 4),
        np.round(similarity, 4),
        common,
    )


def _best_first(
    score: np.ndarray, columns: np.ndarray, slug_rank: np.ndarray, k: int
) -> np.ndarray:
    """The positions of each row's ``k`` best columns, best first."""
    # One integer key per pair: higher score first, then the smaller slug.
    key = -score * (len(slug_rank) + 1) + slug_rank[np.maximum(columns, 0)]
    if k >= key.shape[1]:
        return np.argsort(key, axis=1)
    best = np.argpartition(key, k - 1, axis=1)[:, :k]
    return np.take_along_axis(best, np.argsort(np.take_along_axis(key, best, 1), 1), 1)


def _topic_masks(topics: list[set[str]]) -> np.ndarray:
    """Each paper's topics as the bits of one integer."""
    names = topic_names(topics)
    bit = {name: np.uint64(1) << np.uint64(i) for i, name in enumerate(names)}
    masks = np.zeros(len(topics), dtype=np.uint64)
    for row, paper_topics in enumerate(topics):
        for name in paper_topics:
            masks[row] |= bit[name]
    return masks


def topic_names(topics: list[set[str]]) -> list[str]:
    """The topics the papers have, sorted; more than fit in a mask are a :class:`RelatedError`."""
    names = sorted({t for paper_topics in topics for t in paper_topics})
    if len(names) > MAX_TOPICS:
        raise RelatedError(
            f"{len(names)} topics have papers, and related papers are computed for at most "
            f"{MAX_TOPICS}: merge or retire some topics"
        )
    return names


def _pair_cosines(vectors: sparse.csr_matrix, rows: np.ndarray, columns: np.ndarray):
    """The TF-IDF cosine of each row with each of its candidate columns (-1: none)."""
    left = vectors[np.repeat(rows, columns.shape[1])]
    right = vectors[np.maximum(columns, 0).ravel()]
    cosines = np.asarray(left.multiply(right).sum(axis=1)).reshape(columns.shape)
    return np.where(columns >= 0, cosines, 0.0)


def _approximate_neighbours(
    vectors: sparse.csr_matrix, basis: np.ndarray, count: int
) -> np.ndarray:
    """``count`` candidate neighbours per row (and the row itself), found by a
    nearest-neighbour index over a low-dimensional projection of the vectors (the
    projection and the index's lists fitted on the basis)."""
    import faiss
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    faiss.omp_set_num_threads(1)  # see _vectors

    components = min(COMPONENTS, vectors.shape[1] - 1)
    dense = TruncatedSVD(components, algorithm="randomized", n_iter=4, random_state=0)
    projected = normalize(dense.fit(vectors[basis]).transform(vectors)).astype(np.float32)
    dimensions = projected.shape[1]
    lists = max(1, int(np.sqrt(len(basis))))  # faiss wants about 39 training points per list
    quantizer = faiss.IndexFlatIP(dimensions)
    index = faiss.IndexIVFFlat(quantizer, dimensions, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = 0
    index.train(projected[basis])
    index.add(projected)
    index.nprobe = NPROBE
    _, candidates = index.search(projected, count + 1)
    return candidates.astype(np.int64)


class Background:
    """Related papers computed in a forked process, beside the caller's work.

    The scikit-learn and faiss steps hold Python's GIL for long stretches, which starves
    a thread writing SQLite rows one by one; a process does not share the GIL. The child
    is forked first, before the caller parses anything, and imports scikit-learn (most
    of a second) meanwhile; :meth:`start` sends it the texts, and it computes the
    vectors and candidates, which need no topics, while the caller matches topics; then
    it takes the topics (:meth:`score`) and sends back compact columns (:meth:`result`).
    Where ``fork`` is not available the work is done in-process.
    """

    def __init__(self):
        self.slugs: list[str] = []
        self.basis: np.ndarray = np.zeros(0, dtype=np.int64)
        self.seconds = 0.0  # the computation's own time, from the texts to the columns
        self.peak_mb = 0.0  # the child's peak memory (0 when computed in-process)
        self._process = None
        self._sender: threading.Thread | None = None
        self._texts: list[str] = []
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        self._connection, child_end = context.Pipe()
        self._process = context.Process(
            target=_child, args=(child_end, self._connection), name="papershelf-related"
        )
        self._process.start()
        child_end.close()

    def start(
        self, slugs: list[str], texts: list[str], arrival: Sequence[int] | None = None
    ) -> None:
        """Give each paper's slug and text (title twice, then abstract), and the order the
        papers arrived in (see :func:`basis_rows`)."""
        self.slugs = slugs
        self.basis = basis_rows(len(slugs), arrival)
        if self._process is None:
            self._texts = texts
        else:
            self._send((slugs, texts, self.basis))

    def score(self, topics: list[set[str]]) -> None:
        """Give each paper's topics (the bonus for shared topics needs them)."""
        try:
            topic_names(topics)  # too many is an error here, before the child waits on them
        except RelatedError:
            self.cancel()
            raise
        if self._process is None:
            started = time.perf_counter()
            self._columns = _best_pairs(self.slugs, *_vectors(self._texts, self.basis), topics)
            self.seconds = time.perf_counter() - started
        else:
            self._send(topics)

    def _send(self, message) -> None:
        # The child reads a message only when it needs it: a thread sends it, so that a
        # full pipe does not hold the caller up meanwhile, after the previous message.
        self._sender = threading.Thread(
            target=_send, args=(self._connection, message, self._sender), name="papershelf-send"
        )
        self._sender.start()

    def result(self) -> list[Related]:
        if self._process is not None:
            try:
                status, payload = self._connection.recv()
            except (EOFError, OSError):  # the child ended: the pipe is closed, or was reset
                self._process.join()
                raise RelatedError(
                    f"the related-papers process ended with code {self._process.exitcode}"
                    " before sending its result"
                ) from None
            self._process.join()
            self._finish()
            if status == "error":
                raise RelatedError(f"computing related papers failed: {payload}")
            self._columns, self.seconds, self.peak_mb = payload
        return _as_rows(self.slugs, self._columns)

    def cancel(self) -> None:
        """End the child, if it is still there (after a failure elsewhere)."""
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._finish()

    def _finish(self) -> None:
        # The child has ended, so a sender still blocked on the pipe has failed by now.
        if self._sender is not None:
            self._sender.join()
            self._sender = None
        self._connection.close()
        self._process = None


def _send(connection, message, previous: threading.Thread | None) -> None:
    if previous is not None:
        previous.join()  # messages go whole and in order
    with contextlib.suppress(OSError):  # the child has ended: result() reports how
        connection.send(message)


def _child(connection, parent_end) -> None:
    # The fork copied the parent's end too: closed here, the pipe ends (EOFError below)
    # when the parent does, however it ends, instead of keeping this process waiting.
    parent_end.close()
    try:
        _import_for_vectors()
        slugs, texts, basis = connection.recv()
        started = time.perf_counter()
        vectors, candidates = _vectors(texts, basis)
        waiting = time.perf_counter()
        topics = connection.recv()
        started += time.perf_counter() - waiting
        columns = _best_pairs(slugs, vectors, candidates, topics)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        connection.send(("ok", (columns, seconds, peak_mb)))
    except EOFError:
        pass  # the parent went away: nothing to send
    except PapershelfError as error:
        connection.send(("error", error.format_message()))
    except BaseException as error:  # a bug: its type and message, without the traceback
        connection.send(("error", "".join(traceback.format_exception_only(error)).strip()))
    finally:
        connection.close()
