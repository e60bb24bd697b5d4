"""What one process keeps of the shared state in memory (update ids, "More passages" keys, a
chat's last turn): the newest entries of a kind, at most ``capacity``, oldest forgotten first;
and, for the kinds that store chats, keys hashed with a salt so no id is held as it is."""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """A map that holds at most ``capacity`` keys; putting one more forgets the least recently put.
    Not thread-safe: used from one event loop."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` under ``key`` as the newest entry."""
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class Salted:
    """Entries kept ``seconds`` by ``clock``, under keys that are keyed hashes (HMAC-SHA256 with
    ``salt``, the same on every worker of the bot). The repr never shows the salt."""

    def __init__(self, salt: bytes, seconds: float, clock: Callable[[], float]) -> None:
        self._salt = salt
        self.seconds = seconds
        self.clock = clock

    def keyed(self, value: str) -> str:
        """``value`` as stored: 32 hex digits of its keyed hash."""
        return hmac.new(self._salt, value.encode(), hashlib.sha256).hexdigest()[:32]

    def expired(self, at: float) -> bool:
        """Whether an entry made at ``at`` is older than ``seconds``."""
        return self.clock() - at > self.seconds

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seconds={self.seconds:g})"
