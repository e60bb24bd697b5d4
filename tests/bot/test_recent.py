"""The in-memory part of the shared state: bounded, newest kept, and keys that hold no id."""

from __future__ import annotations

import pytest

from bot.core.shared.recent import Recent, Salted


def test_the_least_recently_put_key_is_forgotten_past_the_capacity() -> None:
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 3)  # put again: newest
    recent.put("c", 4)
    assert ("a" in recent, "b" in recent, "c" in recent, len(recent)) == (True, False, True, 2)
    assert (recent.get("a"), recent.get("b"), recent["c"]) == (3, None, 4)
    recent.pop("a")
    recent.pop("a")  # gone already: no error
    assert len(recent) == 1
    with pytest.raises(ValueError, match="capacity"):
        Recent(0)


def test_salted_keys_and_expiry() -> None:
    now = [100.0]
    first, second = Salted(b"s" * 32, 10, lambda: now[0]), Salted(b"t" * 32, 10, lambda: now[0])
    key = first.keyed("chat:42")
    assert len(key) == 32 and int(key, 16) >= 0  # hex digits only, never the id itself
    assert key == Salted(b"s" * 32, 99, time_never).keyed("chat:42") != second.keyed("chat:42")
    assert not first.expired(95.0)
    now[0] = 106.0
    assert first.expired(95.0)
    assert "s" * 32 not in repr(first) and repr(first) == "Salted(seconds=10)"


def time_never() -> float:
    raise AssertionError("not read")
