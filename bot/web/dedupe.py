"""Remembering which Telegram updates were already taken, so a redelivered one is not handled twice.

Telegram redelivers an update when it did not see a 2xx in time; the copy has the same
``update_id``. A redelivery comes within minutes, so a bounded window of recent ids is enough.
Behind a load balancer the copy may reach another worker: ``SharedUpdates`` also records each
id as a file in a folder all workers on one host share, created with ``O_EXCL`` so exactly one
wins; ``RedisUpdates`` does the same for workers on several hosts with one Redis key per id.
An id that is not a positive integer below 2**63 (no Telegram update has one) is refused
before any of them looks at it.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from pathlib import Path

from bot.core.shared import RedisDown, RedisLink

logger = logging.getLogger(__name__)

KEEP_SECONDS = 3600  # Telegram redelivers within minutes; an hour of ids is plenty
MAX_UPDATE_ID = 2**63 - 1


def valid_update_id(update_id: object) -> bool:
    """Whether ``update_id`` is one Telegram could send: a positive integer below 2**63."""
    return type(update_id) is int and 0 < update_id <= MAX_UPDATE_ID


class RecentUpdates:
    """The last ``capacity`` update ids this process accepted (not thread-safe: one event loop)."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """True the first time ``update_id`` is offered (and remembers it), False for a repeat or an
        id no Telegram update has."""
        if not valid_update_id(update_id):
            return False
        if update_id in self._seen:
            self._seen.move_to_end(update_id)
            return False
        self._seen[update_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    async def take(self, update_id: int) -> bool:
        """``first_time`` as the webhook awaits it (a store shared by hosts answers over the network)."""
        return self.first_time(update_id)

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._seen


class SharedUpdates(RecentUpdates):
    """Update ids taken by any process sharing ``folder`` (one empty file each), kept ``keep_seconds``."""

    def __init__(self, folder: Path, *, keep_seconds: float = KEEP_SECONDS, prune_every: int = 1000) -> None:
        super().__init__()
        self.folder = folder
        self.keep_seconds = keep_seconds
        self.prune_every = prune_every
        self._since_prune = 0
        self._shared = True
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        if self._shared:
            logger.error("update ids are remembered by this process only: %s", exc)
        self._shared = False

    def first_time(self, update_id: int) -> bool:
        """True for the first process (and first time) ``update_id`` is offered."""
        if not super().first_time(update_id):
            return False
        if not self._shared:
            return True
        try:
            os.close(os.open(self.folder / str(update_id), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            return False
        except OSError as exc:
            self._give_up(exc)
            return True
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


class RedisUpdates(RecentUpdates):
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
