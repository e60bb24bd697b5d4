"""Remembering which Telegram updates were already taken, so a redelivered one is not handled twice.

Telegram redelivers an update when it did not see a 2xx in time; the copy has the same
``update_id``. Update ids grow with every update, so remembering a bounded window of recent
ids is enough: a redelivery comes within minutes, long before the window moves past it.
"""

from __future__ import annotations

from collections import OrderedDict


class RecentUpdates:
    """The last ``capacity`` update ids this process accepted (not thread-safe: one event loop)."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()

    def first_time(self, update_id: int) -> bool:
        """True the first time ``update_id`` is offered (and remembers it), False for a repeat."""
        if update_id in self._seen:
            self._seen.move_to_end(update_id)
            return False
        self._seen[update_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def forget(self, update_id: int) -> None:
        """Let ``update_id`` be taken again (when it could not be queued after all)."""
        self._seen.pop(update_id, None)

    def __len__(self) -> int:
        return len(self._seen)

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._seen
