"""Remembering which Telegram updates were already taken, so a redelivered one is not handled twice.

Telegram redelivers an update when it did not see a 2xx in time; the copy has the same
``update_id``. A redelivery comes within minutes, so a bounded window of recent ids is enough.
Behind a load balancer the copy may reach another worker: ``FolderUpdateIds`` also records each
id as a file in a folder all workers on one host share, created with ``O_EXCL`` so exactly one
wins; ``RedisUpdateIds`` does the same for workers on several hosts with one Redis key per id.
An id that is not a positive integer below 2**63 (no Telegram update has one) is refused
before any of them looks at it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from bot.core.shared.link import RedisDown, RedisLink
from bot.core.shared.recent import Recent

logger = logging.getLogger(__name__)

KEEP_SECONDS = 3600  # Telegram redelivers within minutes; an hour of ids is plenty
RETRY_SECONDS = 5.0  # after the shared folder failed (open-file limit, disk full), when to try it again
MAX_UPDATE_ID = 2**63 - 1


def valid_update_id(update_id: object) -> bool:
    """Whether ``update_id`` is one Telegram could send: a positive integer below 2**63."""
    return type(update_id) is int and 0 < update_id <= MAX_UPDATE_ID


class UpdateIds:
    """The last ``capacity`` update ids this process accepted (not thread-safe: one event loop)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._seen: Recent[int, None] = Recent(capacity)

    def first_time(self, update_id: int) -> bool:
        """True the first time ``update_id`` is offered (and remembers it), False for a repeat or an
        id no Telegram update has."""
        if not valid_update_id(update_id):
            return False
        seen = update_id in self._seen
        self._seen.put(update_id, None)  # a repeat counts as recent again
        return not seen

    async def take(self, update_id: int) -> bool:
        """``first_time`` as the webhook awaits it (a store shared by hosts answers over the network)."""
        return self.first_time(update_id)

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._seen


class FolderUpdateIds(UpdateIds):
    """Update ids taken by any process sharing ``folder`` (one empty file each), kept ``keep_seconds``.

    When the folder fails (the open-file limit, a full disk), this process's own memory decides
    until the folder is tried again, ``retry_seconds`` later: one error when it is lost, one line
    when it is back.
    """

    def __init__(
        self,
        folder: Path,
        *,
        keep_seconds: float = KEEP_SECONDS,
        prune_every: int = 1000,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.folder = folder
        self.keep_seconds = keep_seconds
        self.prune_every = prune_every
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._since_prune = 0
        self._retry_at: float | None = None  # while the folder is lost: when to try it again
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        if self._retry_at is None:
            logger.error(
                "update ids are remembered by this process only, trying %s again every %.0f s: %s",
                self.folder,
                self.retry_seconds,
                exc,
            )
        self._retry_at = self._clock() + self.retry_seconds

    def _back(self) -> None:
        if self._retry_at is not None:
            logger.warning("update ids are shared through %s again", self.folder)
            self._retry_at = None

    def first_time(self, update_id: int) -> bool:
        """True for the first process (and first time) ``update_id`` is offered."""
        if not super().first_time(update_id):
            return False
        retry_at = self._retry_at
        if retry_at is not None and self._clock() < retry_at:
            return True
        try:
            if retry_at is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.folder / str(update_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            self._back()
            return False
        except OSError as exc:
            self._lost(exc)
            return True
        self._back()
        self._since_prune += 1
        if self._since_prune >= self.prune_every:
            self.prune()
        return True

    def prune(self) -> None:
        """Delete the records older than ``keep_seconds``."""
        self._since_prune = 0
        cutoff = time.time() - self.keep_seconds
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    try:
                        if entry.stat().st_mtime < cutoff:
                            os.unlink(entry.path)
                    except FileNotFoundError:
                        pass  # another worker pruned it first
        except OSError as exc:
            logger.warning("could not prune %s: %s", self.folder, exc)


class RedisUpdateIds(UpdateIds):
    """Update ids taken by any worker using one Redis: ``SET <prefix>:update:<id> 1 NX EX keep_seconds``.

    Fails open: while Redis does not answer, this process's own memory decides, so a copy that
    reaches another worker during an outage is answered twice rather than lost (see ``RedisLink``).
    """

    def __init__(self, link: RedisLink, *, keep_seconds: int = KEEP_SECONDS) -> None:
        super().__init__()
        self.link = link
        self.keep_seconds = keep_seconds

    async def take(self, update_id: int) -> bool:
        """True for the first worker (and first time) ``update_id`` is offered; a repeat to this
        worker is answered from memory without asking Redis."""
        if not self.first_time(update_id):
            return False
        key = self.link.key("update", update_id)
        try:
            won = await self.link.run(lambda: self.link.client.set(key, 1, nx=True, ex=self.keep_seconds))
        except RedisDown:
            return True
        return bool(won)
