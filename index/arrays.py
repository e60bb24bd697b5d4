"""Arrays on disk: ``.npy`` files written a batch at a time, read a block at a time, mapped to serve.

A build streams every vector it makes into the index directory instead of holding them all,
and reads them back a block at a time with ordinary reads (no mapping stays in its resident
memory); a serving process maps the same files read-only, so several workers on one host share
their pages through the page cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

BLOCK_ROWS = 16_384  # rows read at a time (32 MB of 512-d float32)


class RowWriter:
    """A 2-d ``.npy`` of ``rows`` by ``columns`` of ``dtype``, filled in order by ``append``."""

    def __init__(self, path: Path, rows: int, columns: int, dtype: Any = np.float32) -> None:
        self.path = path
        self.shape = (rows, columns)
        self.dtype = np.dtype(dtype)
        self.written = 0
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close() or the context manager
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        np.lib.format.write_array_header_2_0(self._file, header)

    def append(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=self.dtype).reshape(-1, self.shape[1])
        if self.written + len(block) > self.shape[0]:
            raise ValueError(f"{self.path.name}: more than {self.shape[0]} rows")
        self._file.write(block.tobytes())
        self.written += len(block)

    def close(self) -> None:
        self._file.close()
        if self.written != self.shape[0]:
            raise ValueError(f"{self.path.name}: {self.written} rows written of {self.shape[0]}")

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.close()
        else:
            self._file.close()


def save_rows(path: Path, array: np.ndarray) -> None:
    """Write a whole array as ``.npy`` (never pickled)."""
    np.save(path, array, allow_pickle=False)


class RowFile:
    """A 2-d ``.npy`` read a block of rows at a time, with ordinary reads: nothing stays mapped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            self.offset = f.tell()
        if fortran or len(shape) != 2:
            raise ValueError(f"{path.name} is not a 2-d array in C order")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start`` to ``stop`` (exclusive), a new array."""
        stop = min(stop, self.shape[0])
        count = max(0, stop - start) * self.shape[1]
        offset = self.offset + start * self.shape[1] * self.dtype.itemsize
        block = np.fromfile(self.path, dtype=self.dtype, count=count, offset=offset)
        if block.size != count:
            raise ValueError(f"{self.path.name} is truncated")
        return block.reshape(-1, self.shape[1])

    def blocks(self, rows: int = BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, block)`` over every row, ``rows`` at a time."""
        for start in range(0, self.shape[0], rows):
            yield start, self.read(start, start + rows)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows numbered in ``rows`` (ascending), read block by block."""
        out = np.empty((len(rows), self.shape[1]), dtype=self.dtype)
        done = 0
        for start, block in self.blocks():
            wanted = rows[(rows >= start) & (rows < start + len(block))]
            out[done : done + len(wanted)] = block[wanted - start]
            done += len(wanted)
        return out


def mapped(path: Path) -> np.ndarray:
    """The array in ``path``, mapped read-only: its pages are the page cache's, shared between processes.

    A plain ``ndarray`` over the mapping, not ``np.memmap``: the subclass makes every indexing
    step build another memmap object, which cost a question about a millisecond at 1M rows.
    """
    return np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct ``values``, ascending: ``np.unique`` by sorting.

    numpy 2.4's ``np.unique`` hashes integers first and was ~20x slower on the ~10k candidate
    rows of a question (2.3 ms against 0.1 ms).
    """
    ordered = np.sort(values, kind="stable")
    if ordered.size == 0:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]
