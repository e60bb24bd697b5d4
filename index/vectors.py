"""Which FAISS index a collection of unit vectors gets, with its search settings, on disk and off.

Vector search tiers, measured by ``python -m bench`` (docs/performance.md) on 2 cores with
512-d vectors, one query at a time:

- below APPROXIMATE_FROM rows, exact search (IndexFlatIP): ~0.2 µs a row, so ~10 ms at 50k
  and ~160-190 ms at 1M;
- from APPROXIMATE_FROM, HNSW: ~1.5 ms at 100k with recall@3 0.999 against exact (efSearch
  128 gave only 0.98 there, M=32 with efSearch 256 0.993);
- from IVF_FROM, an inverted file: building HNSW takes ~0.5 ms a vector on 2 cores (~8 minutes
  for 1M on a quiet machine). Its lists hold the vectors as float16 (IndexIVFScalarQuantizer,
  QT_fp16): half the bytes a question scans and a worker maps, with the float32 lists' recall.
  There are 4·sqrt(rows) lists, the low end of FAISS's guideline (4-16·sqrt), and a question
  scans 16 of them. The list centroids are themselves found through a small HNSW graph (FAISS's
  "IVF…_HNSW32"), both when k-means trains them and when vectors and questions are assigned to
  them: at 1M rows on the synthetic index of bench.endtoend, 159 s to train and fill against
  409 s with exact assignment, FAISS alone 1.8 ms against 2.0 ms for top 256, recall@3 against
  exact search 0.996 against 0.997 (with efSearch 64 instead of 128, recall fell to 0.987).

The search settings (efSearch, nprobe) are set again whenever an index is read, so an index
always searches with this module's values, whatever its file holds.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np

from index.arrays import RowFile

APPROXIMATE_FROM = 50_000
HNSW_NEIGHBOURS = 48
HNSW_EF_CONSTRUCTION = 100
HNSW_EF_SEARCH = 256
IVF_FROM = 200_000
IVF_LISTS_PER_SQRT = 4  # lists = 4·sqrt(rows): 4,000 lists at 1M rows
IVF_PROBES = 16
IVF_CENTROID_NEIGHBOURS = 32  # the HNSW graph over the lists' centroids
IVF_CENTROID_EF_SEARCH = 128
IVF_TRAINING_PER_LIST = 40  # k-means sample: 40 vectors a list (FAISS wants at least 39)
IVF_TRAINING_ITERATIONS = 10
INVERTED_FILES = (b"IwFl", b"IwSq")  # how FAISS's files of IndexIVFFlat and IndexIVFScalarQuantizer start


Vectors = np.ndarray | RowFile
ADD_BLOCK = 16_384  # rows added to an index at a time


def make_vector_index(vectors: Vectors) -> faiss.Index:
    """Exact inner-product search for small collections; HNSW, then IVF, past their sizes (see above).

    ``vectors`` may be a file (``RowFile``): it is then read a block at a time, so a build never
    holds a second copy of the vectors beside the index.
    """
    if len(vectors) < APPROXIMATE_FROM:
        index: faiss.Index = faiss.IndexFlatIP(vectors.shape[1])
        _add(index, vectors)
        return index
    return approximate_index(vectors)


def approximate_index(vectors: Vectors) -> faiss.Index:
    """The approximate index the engine uses for ``vectors``, whatever their number."""
    dimension = vectors.shape[1]
    index: faiss.Index
    if len(vectors) < IVF_FROM:
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        lists = max(1, int(IVF_LISTS_PER_SQRT * np.sqrt(len(vectors))))
        centroids = faiss.IndexHNSWFlat(dimension, IVF_CENTROID_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        centroids.hnsw.efSearch = IVF_CENTROID_EF_SEARCH  # k-means assigns through it too
        index = faiss.IndexIVFScalarQuantizer(
            centroids, dimension, lists, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.niter = IVF_TRAINING_ITERATIONS
        sample = min(len(vectors), lists * IVF_TRAINING_PER_LIST)
        rows = np.sort(np.random.default_rng(0).choice(len(vectors), sample, replace=False))
        index.train(vectors.take(rows) if isinstance(vectors, RowFile) else vectors[rows])
    apply_search_settings(index)
    _add(index, vectors)
    return index


def _add(index: faiss.Index, vectors: Vectors) -> None:
    if isinstance(vectors, RowFile):
        for _, block in vectors.blocks(ADD_BLOCK):
            index.add(block)
    else:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))


def apply_search_settings(index: faiss.Index) -> faiss.Index:
    """Set efSearch (HNSW) or nprobe (IVF) to this module's values; an exact index is left as it is."""
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    elif isinstance(index, faiss.IndexIVF):  # float16 lists, or float32 ones of an index built before them
        index.nprobe = IVF_PROBES
        graph = centroid_graph(index)
        if graph is not None:
            graph.hnsw.efSearch = IVF_CENTROID_EF_SEARCH
    return index


def centroid_graph(index: faiss.IndexIVF) -> faiss.IndexHNSW | None:
    """The HNSW graph an inverted file finds its lists through, or None when it compares a
    question with every centroid (inverted files built before the graph)."""
    centroids = faiss.downcast_index(index.quantizer)
    return centroids if isinstance(centroids, faiss.IndexHNSW) else None


def describe(index: faiss.Index) -> str:
    """A short name for a vector index and its search settings, for logs and benchmarks."""
    if isinstance(index, faiss.IndexHNSWFlat):
        neighbours = index.hnsw.nb_neighbors(1)  # type: ignore[attr-defined]
        return f"HNSW (M={neighbours}, efSearch={index.hnsw.efSearch})"
    if isinstance(index, faiss.IndexIVFFlat | faiss.IndexIVFScalarQuantizer):
        lists = "IVF-Flat" if isinstance(index, faiss.IndexIVFFlat) else "IVF-float16"
        centroids = ", HNSW centroids" if centroid_graph(index) is not None else ""
        return f"{lists} ({index.nlist} lists, nprobe={index.nprobe}{centroids})"
    return type(index).__name__


def write_vector_index(index: faiss.Index, path: Path) -> None:
    """Write ``index`` to ``path``; OSError when FAISS cannot (a full disk, say)."""
    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:  # FAISS reports a failed write this way
        raise OSError(errno.EIO, "FAISS could not write the vectors", str(path)) from exc


def read_vector_index(path: Path) -> faiss.Index:
    """The index in ``path``, mapped rather than read, searching with this module's settings
    (FAISS's own errors when corrupt).

    Mapped, its vectors are the page cache's pages, which every process serving the file
    shares: an inverted file's lists with ``IO_FLAG_MMAP``, a flat or HNSW index's vectors
    with ``IO_FLAG_MMAP_IFC`` (FAISS 1.10 and later).
    """
    with open(path, "rb") as f:
        kind = f.read(4)
    flags = faiss.IO_FLAG_MMAP if kind in INVERTED_FILES else faiss.IO_FLAG_MMAP_IFC
    return apply_search_settings(faiss.read_index(str(path), flags))


@contextmanager
def one_thread() -> Iterator[None]:
    """Run FAISS on one OpenMP thread in this thread only (the setting is per thread).

    One question is one query: parallelism comes from answering several at once. Two OpenMP
    threads for a single exact search were 2-3x slower, not faster, on a busy 2-core machine
    (they spin-wait for each other; see bench/).
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def inner_products(vectors: np.ndarray, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors[rows] @ query`` in one pass over the rows, on the calling thread, without BLAS.

    A question's few thousand rows are read in place (no gathered copy) by FAISS's
    ``fvec_inner_products_by_idx``. The numpy product went through OpenBLAS, whose second
    thread, woken for a product this small, waited milliseconds for a core on a busy 2-core
    machine (bench/, "End to end").
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
    if vectors.ndim != 2 or query.shape[0] != vectors.shape[1]:
        raise ValueError(f"a {query.shape[0]}-d query against {vectors.shape} vectors")
    if rows.size and (rows.min() < 0 or rows.max() >= len(vectors)):
        raise IndexError("a row outside the vectors")
    products = np.empty(rows.shape[0], dtype=np.float32)
    with one_thread():  # FAISS would otherwise start a team of OpenMP threads for this one query
        faiss.fvec_inner_products_by_idx(  # type: ignore[attr-defined]
            faiss.swig_ptr(products),
            faiss.swig_ptr(query),
            faiss.swig_ptr(vectors),
            faiss.swig_ptr(rows),
            vectors.shape[1],
            1,
            rows.shape[0],
        )
    return products
