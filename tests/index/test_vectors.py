"""FAISS policy: each index tier against numpy brute force, and its search settings on disk and off."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from index import vectors as vectors_module
from index.vectors import (
    centroid_graph,
    describe,
    inner_products,
    make_vector_index,
    read_vector_index,
    write_vector_index,
)


def unit_rows(rows: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# Thresholds small enough that 3,000 vectors land in each tier in turn.
TIERS = {
    "flat": ({}, faiss.IndexFlatIP),
    "hnsw": ({"APPROXIMATE_FROM": 1000, "HNSW_EF_SEARCH": 77}, faiss.IndexHNSWFlat),
    "ivf": (
        {"APPROXIMATE_FROM": 1000, "IVF_FROM": 2000, "IVF_PROBES": 9, "IVF_CENTROID_EF_SEARCH": 33},
        faiss.IndexIVFScalarQuantizer,
    ),
}


def search_settings(index: faiss.Index) -> dict[str, int]:
    if isinstance(index, faiss.IndexHNSWFlat):
        return {"efSearch": index.hnsw.efSearch}
    if isinstance(index, faiss.IndexIVF):
        graph = centroid_graph(index)
        if graph is not None:
            return {"nprobe": index.nprobe, "centroids efSearch": graph.hnsw.efSearch}
        return {"nprobe": index.nprobe}
    return {}


@pytest.mark.parametrize("tier", TIERS)
def test_each_tier_finds_the_exact_nearest_of_a_planted_query_and_keeps_its_settings_on_disk(
    tier: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    constants, kind = TIERS[tier]
    for name, value in constants.items():
        monkeypatch.setattr(vectors_module, name, value)
    vectors = unit_rows(3000, 32, 5)
    planted = [17, 1234, 2999]
    noise = 0.05 * np.random.default_rng(6).standard_normal((len(planted), 32)).astype(np.float32)
    queries = vectors[planted] + noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    assert list(np.argmax(queries @ vectors.T, axis=1)) == planted  # the plant is the exact nearest

    index = make_vector_index(vectors)
    assert type(index) is kind
    expected = {"hnsw": {"efSearch": 77}, "ivf": {"nprobe": 9, "centroids efSearch": 33}}.get(tier, {})
    assert search_settings(index) == expected
    _, ids = index.search(queries, 1)
    assert list(ids[:, 0]) == planted

    write_vector_index(index, tmp_path / "vectors.faiss")
    reread = read_vector_index(tmp_path / "vectors.faiss")
    assert type(reread) is kind
    assert search_settings(reread) == expected
    assert describe(reread) == describe(index)
    _, ids = reread.search(queries, 1)
    assert list(ids[:, 0]) == planted


def test_exact_index_matches_numpy_brute_force() -> None:
    vectors, queries = unit_rows(2000, 64, 1), unit_rows(20, 64, 2)
    scores, ids = make_vector_index(vectors).search(queries, 5)
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :5]
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ vectors.T, expected, axis=1), rtol=1e-5)


def test_large_collections_switch_to_hnsw_with_high_recall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 1000)
    vectors, queries = unit_rows(5000, 32, 3), unit_rows(100, 32, 4)
    index = make_vector_index(vectors)
    assert isinstance(index, faiss.IndexHNSWFlat)
    _, ids = index.search(queries, 3)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :3]
    recall = np.mean([len(set(a) & set(b)) / 3 for a, b in zip(ids, exact, strict=True)])
    assert recall >= 0.99


def test_a_search_setting_changed_after_writing_is_the_one_a_read_index_uses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An index written under older settings searches with today's once read."""
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 100)
    write_vector_index(make_vector_index(unit_rows(300, 16, 7)), tmp_path / "vectors.faiss")
    monkeypatch.setattr(vectors_module, "HNSW_EF_SEARCH", 300)
    assert search_settings(read_vector_index(tmp_path / "vectors.faiss")) == {"efSearch": 300}


def test_a_failed_write_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="FAISS could not write the vectors"):
        write_vector_index(make_vector_index(unit_rows(10, 8, 8)), tmp_path / "missing" / "vectors.faiss")


def test_an_inverted_file_of_float32_lists_from_earlier_builds_is_read_mapped_with_todays_probes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    vectors = unit_rows(2000, 16, 9)
    older = faiss.IndexIVFFlat(faiss.IndexFlatIP(16), 16, 20, faiss.METRIC_INNER_PRODUCT)
    older.train(vectors)
    older.add(vectors)
    older.nprobe = 1
    write_vector_index(older, tmp_path / "vectors.faiss")
    monkeypatch.setattr(vectors_module, "IVF_PROBES", 20)  # every list: exact

    reread = read_vector_index(tmp_path / "vectors.faiss")
    assert isinstance(reread, faiss.IndexIVFFlat)
    assert str(tmp_path / "vectors.faiss") in Path("/proc/self/maps").read_text()
    assert search_settings(reread) == {"nprobe": 20}
    assert describe(reread) == "IVF-Flat (20 lists, nprobe=20)"
    _, ids = reread.search(vectors[:5], 1)
    assert list(ids[:, 0]) == [0, 1, 2, 3, 4]


def test_inner_products_of_chosen_rows_match_numpy_even_over_a_mapped_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    stored = rng.standard_normal((500, 64)).astype(np.float32)
    np.save(tmp_path / "rows.npy", stored)
    mapped = np.load(tmp_path / "rows.npy", mmap_mode="r")
    query = rng.standard_normal(64).astype(np.float32)
    rows = np.array([499, 0, 17, 17, 250])

    products = inner_products(np.asarray(mapped), rows, query)

    np.testing.assert_allclose(products, stored[rows] @ query, rtol=1e-5, atol=1e-5)
    assert inner_products(stored, np.array([], dtype=np.int64), query).shape == (0,)


def test_inner_products_refuse_rows_outside_the_vectors_and_a_query_of_another_dimension() -> None:
    stored = np.ones((10, 8), dtype=np.float32)
    with pytest.raises(IndexError):
        inner_products(stored, np.array([10]), np.ones(8, dtype=np.float32))
    with pytest.raises(IndexError):
        inner_products(stored, np.array([-1]), np.ones(8, dtype=np.float32))
    with pytest.raises(ValueError, match="16-d query"):
        inner_products(stored, np.array([0]), np.ones(8, dtype=np.float32).reshape(1, 8).repeat(2, 0))
