"""Admin changes to the corpus folder: checked uploads written atomically, and removals. Synchronous."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

from index.documents import SUFFIXES, corpus_files, parse_document

logger = logging.getLogger(__name__)

# A plain file name: no folders, no leading dot, no "..", a .txt or .md suffix.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class Refused(ValueError):
    """An admin request that is not carried out; ``reason`` names a text in ``bot.texts``."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


def check_name(name: str | None) -> str:
    """``name`` if it is a safe corpus file name, else Refused."""
    name = name or ""
    if not name.lower().endswith(SUFFIXES):
        raise Refused("refuse_type")
    if not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise Refused("refuse_name")
    return name


def check_upload(name: str | None, size: int | None, limit: int) -> str:
    """Validate what Telegram tells about a document before downloading it; the safe name."""
    name = check_name(name)
    if size is not None and size > limit:
        raise Refused("refuse_size", limit=limit)
    return name


def save_document(folder: Path, name: str, content: bytes, limit: int) -> bool:
    """Write ``content`` as ``folder/name`` atomically after checking it; True when it replaced a file."""
    name = check_name(name)
    if len(content) > limit:
        raise Refused("refuse_size", limit=limit)
    try:
        decoded = content.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("refuse_encoding") from None
    if "\x00" in decoded:
        raise Refused("refuse_encoding")
    if not parse_document(name, decoded).paragraphs:
        raise Refused("refuse_empty")
    return write_document(folder, name, content)


def write_document(folder: Path, name: str, content: bytes) -> bool:
    """Write ``content`` as ``folder/name`` atomically (no reader sees half a file); True when it
    replaced a file. ``name`` must have passed ``check_name``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    replaced = target.exists()
    # A hidden temporary name: the corpus reader ignores it until the rename.
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info("%s document %s (%d bytes)", "replaced" if replaced else "added", name, len(content))
    return replaced


def remove_document(folder: Path, name: str) -> None:
    """Delete ``folder/name``; Refused when it is not a corpus document or the only one."""
    documents = {path.name: path for path in corpus_files(folder)}
    try:
        name = check_name(name)
    except Refused:
        raise Refused("remove_missing", name=name) from None
    if name not in documents:
        raise Refused("remove_missing", name=name)
    if len(documents) == 1:
        raise Refused("remove_last", name=name)
    documents[name].unlink()
    logger.info("removed document %s", name)
