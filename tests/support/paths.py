"""Where things are in the checkout, and working copies of the article and its index for a child process."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index import EngineConfig

PROJECT = Path(__file__).resolve().parents[2]
ARTICLE = PROJECT / "corpus" / "armenia-icc-2023-10.txt"
DATA = PROJECT / "tests" / "data"


def article_corpus(root: Path) -> Path:
    """A corpus folder ``root/corpus`` holding a copy of the article (no index yet)."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy2(ARTICLE, corpus)
    return corpus


def copy_built(config: EngineConfig, root: Path) -> Path:
    """``root`` holding copies of ``config``'s corpus and index as ``corpus/`` and ``index/``:
    a process started over them loads the index instead of building it, and may change both."""
    shutil.copytree(config.corpus_dir, root / "corpus")
    shutil.copytree(config.index_dir, root / "index")
    return root
