"""The stored index: manifests, damage, and atomic publishing."""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index import CorpusError, Engine, IndexFileError
from index import store as store_module
from index.store import IndexStore, IndexWriteError
from index.stored import FORMAT_VERSION
from tests.conftest import ARTICLE

Make = Callable[..., Engine]


def test_round_trip_through_disk_gives_the_same_search(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({ARTICLE.name: ARTICLE.read_bytes()})
    engine.load()
    before = engine.ask("Wat vindt het Kremlin van de aansluiting?")
    reloaded = make_hashed_engine()
    reloaded.load(build=False)
    assert reloaded.index.version == engine.index.version
    assert reloaded.ask("Wat vindt het Kremlin van de aansluiting?") == before
    manifest = json.loads((engine.config.index_dir / engine.index.version / "manifest.json").read_text())
    assert manifest["model"] == engine.config.model
    assert manifest["dimension"] == engine.encoder.dimension
    assert manifest["paragraphs"] == 8
    assert manifest["corpus_fingerprint"] == engine.index.manifest["corpus_fingerprint"]


def test_manifest_for_another_model_is_rebuilt(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    old = engine.index.version
    manifest_path = engine.config.index_dir / old / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["model"] = "some-other-model"
    manifest_path.write_text(json.dumps(manifest))
    fresh = make_hashed_engine()
    with pytest.raises(IndexFileError, match="some-other-model"):
        fresh.load(build=False)
    fresh.load()
    assert fresh.index.version != old
    assert fresh.index.manifest["model"] == engine.config.model


def test_changed_corpus_is_rebuilt_on_load(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    (engine.config.corpus_dir / "b.txt").write_text("Een tweede artikel over de Kaukasus.", "utf-8")
    again = make_hashed_engine()
    again.load()
    assert again.index.version != engine.index.version
    assert [d.name for d in again.sources()] == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "vectors.faiss").write_bytes(b"not a faiss index"), "unreadable"),
        (lambda folder: (folder / "vectors.faiss").unlink(), "missing: vectors.faiss"),
        (lambda folder: (folder / "documents.json").write_text('{"documents": [', "utf-8"), "unreadable"),
        (lambda folder: (folder / "manifest.json").unlink(), "missing: manifest.json"),
        (lambda folder: (folder / "background.npy").write_bytes(b"\x93NUMPY garbage"), "unreadable"),
        (lambda folder: (folder / "paragraphs.npy").write_bytes(b"\x93NUMPY garbage"), "unreadable"),
        (lambda folder: (folder / "paragraphs.npy").unlink(), "missing: paragraphs.npy"),
        (lambda folder: np.save(folder / "paragraphs.npy", np.zeros((3, 7), np.float32)), "paragraph vectors"),
        (lambda folder: (folder / "titled.npy").unlink(), "missing: titled.npy"),
        (lambda folder: np.save(folder / "titled.npy", np.zeros((3, 7), np.float32)), "titled sentence vectors"),
        (lambda folder: (folder / "hubness.npy").unlink(), "missing: hubness.npy"),
        (lambda folder: np.save(folder / "hubness.npy", np.zeros((3, 7), np.float32)), "paragraph hubness"),
        (lambda folder: (folder / "sentences.npy").unlink(), "missing: sentences.npy"),
        (lambda folder: np.save(folder / "sentences.npy", np.zeros((3, 7), np.float32)), "sentence vectors"),
        (lambda folder: np.save(folder / "background_queries.npy", np.zeros((3, 7), np.float32)), "background quest"),
    ],
)
def test_damaged_index_gives_a_clear_error_then_a_rebuild(
    make_hashed_engine: Make, damage: Callable[[Path], object], message: str
) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    damage(engine.config.index_dir / engine.index.version)
    with pytest.raises(IndexFileError, match=message):
        IndexStore(engine.config.index_dir).load()
    fresh = make_hashed_engine()
    fresh.load()
    assert fresh.ask("Sluit Armenië zich aan bij het Strafhof?").answered


def test_truncated_vectors_file_is_detected(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({ARTICLE.name: ARTICLE.read_bytes()})
    engine.load()
    path = engine.config.index_dir / engine.index.version / "vectors.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexFileError):
        IndexStore(engine.config.index_dir).load()


def test_failed_build_keeps_the_old_index_serving(make_hashed_engine: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_hashed_engine({ARTICLE.name: ARTICLE.read_bytes()})
    engine.load()
    version = engine.index.version
    store = IndexStore(engine.config.index_dir)

    def broken_write(folder: Path, index: object) -> None:
        (folder / "documents.json").write_text("{}", "utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "write_index", broken_write)
    with pytest.raises(IndexWriteError, match=r"cannot write the index in .*: disk full"):
        engine.reindex()
    assert store.current() == version
    assert engine.index.version == version
    assert not list(engine.config.index_dir.glob(".building-*"))
    assert engine.ask("Wie is Maria Lvova-Belova?").answered

    monkeypatch.undo()
    (engine.config.corpus_dir / ARTICLE.name).unlink()
    with pytest.raises(CorpusError, match="no readable documents"):
        engine.reindex()
    assert store.current() == version
    assert engine.ask("Wie is Maria Lvova-Belova?").answered


def test_other_process_picks_up_a_published_index(make_hashed_engine: Make) -> None:
    writer = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    writer.load()
    reader = make_hashed_engine()
    reader.load(build=False)
    (writer.config.corpus_dir / "b.txt").write_text(
        "Azerbeidzjan en Armenië onderhandelen over een vredesverdrag.", "utf-8"
    )
    report = writer.reindex()
    assert reader.refresh(force=True)
    assert reader.index.version == report.version
    assert {d.name for d in reader.sources()} == {"a.txt", "b.txt"}


def test_old_versions_are_pruned(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    for _ in range(4):
        engine.reindex()
    versions = sorted(p.name for p in engine.config.index_dir.glob("v-*"))
    assert len(versions) == 3
    assert engine.index.version in versions


def test_a_build_left_by_a_killed_process_is_removed_by_the_next_build(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    root = engine.config.index_dir
    killed, live, unclaimed = (root / f".building-{name}" for name in ("killed", "live", "unclaimed"))
    for folder in (killed, live, unclaimed):
        folder.mkdir()
        (folder / "documents.json").write_text("{}", "utf-8")
    (killed / store_module.OWNER).touch()  # what a killed build leaves: its .owner, no longer locked
    with open(live / store_module.OWNER, "wb") as owner:  # a build still running elsewhere holds its lock
        fcntl.flock(owner, fcntl.LOCK_EX)
        engine.reindex()
        assert not killed.exists()
        assert live.exists() and unclaimed.exists()  # kept: running, or not known to be abandoned yet
    assert [p.name for p in root.glob("v-*/.owner*")] == []


def test_missing_corpus_folder_keeps_the_built_index_serving(make_hashed_engine: Make) -> None:
    import shutil

    engine = make_hashed_engine({ARTICLE.name: ARTICLE.read_bytes()})
    engine.load()
    shutil.rmtree(engine.config.corpus_dir)
    again = make_hashed_engine()
    again.load()
    assert again.index.version == engine.index.version
    assert again.ask("Wie is Maria Lvova-Belova?").answered


def test_an_index_of_an_older_format_is_rebuilt_by_itself(make_hashed_engine: Make) -> None:
    """A stored index whose format predates this version (say, without titled sentence vectors)
    is not read; the engine rebuilds it at start-up."""
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    old = engine.index.version
    manifest_file = engine.config.index_dir / old / "manifest.json"
    manifest = json.loads(manifest_file.read_text("utf-8"))
    manifest_file.write_text(json.dumps({**manifest, "format": FORMAT_VERSION - 1}), "utf-8")
    (engine.config.index_dir / old / "titled.npy").unlink()
    with pytest.raises(IndexFileError, match=f"format {FORMAT_VERSION - 1} is not {FORMAT_VERSION}"):
        IndexStore(engine.config.index_dir).load(old)
    fresh = make_hashed_engine()
    fresh.load()
    assert fresh.index.version != old
    assert fresh.ask("Sluit Armenië zich aan bij het Strafhof?").answered


def test_a_pointer_that_is_not_a_version_name_is_a_clear_error_then_a_rebuild(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    pointer = engine.config.index_dir / "CURRENT"
    pointer.write_bytes(b"v-\xff\xfe\n")
    with pytest.raises(IndexFileError, match="CURRENT is not a version name"):
        IndexStore(engine.config.index_dir).current()
    assert engine.ask("Sluit Armenië zich aan bij het Strafhof?").answered  # the engine serving it carries on
    fresh = make_hashed_engine()
    fresh.load()
    assert fresh.index.version != engine.index.version
    assert IndexStore(engine.config.index_dir).current() == fresh.index.version


def test_a_pointer_that_is_a_folder_stops_the_build_with_a_clear_error(
    make_hashed_engine: Make, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    engine.load()
    pointer = engine.config.index_dir / "CURRENT"
    pointer.unlink()
    pointer.mkdir()
    with pytest.raises(IndexFileError, match=r"cannot read .*CURRENT: Is a directory"):
        IndexStore(engine.config.index_dir).current()
    for _ in range(3):
        assert engine.refresh(force=True) is False
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        f"cannot read {pointer}: Is a directory"
    ]  # logged once, not on every check
    assert engine.ask("Sluit Armenië zich aan bij het Strafhof?").answered
    with pytest.raises(IndexWriteError, match=r"cannot write the index in .*: Is a directory"):
        make_hashed_engine().load()


def test_an_index_dir_that_is_a_file_is_a_clear_error(make_hashed_engine: Make) -> None:
    engine = make_hashed_engine({"a.txt": "Armenië sluit zich aan bij het Strafhof."})
    index_file = engine.config.index_dir
    index_file.write_text("not a folder", "utf-8")
    with pytest.raises(IndexWriteError, match=re.escape(f"cannot write the index: {index_file} is not a folder")):
        engine.load()
    assert index_file.read_text("utf-8") == "not a folder"
