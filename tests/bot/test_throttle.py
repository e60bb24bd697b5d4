"""The per-user throttle: a sliding window, per user, with an honest wait time."""

from __future__ import annotations

from bot.chat.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_user_gets_n_questions_per_window_then_a_wait() -> None:
    clock = Clock()
    throttle = Throttle(3, 10.0, clock)
    assert [throttle.wait(1) for _ in range(3)] == [0, 0, 0]
    clock.now += 4
    assert throttle.wait(1) == 6  # the first question leaves the window in 6 s
    assert throttle.wait(2) == 0  # other users are not affected
    clock.now += 6  # all three have left the window
    assert [throttle.wait(1) for _ in range(3)] == [0, 0, 0]
    clock.now += 2.5
    assert throttle.wait(1) == 8  # rounded up to whole seconds


def test_refused_questions_do_not_extend_the_wait() -> None:
    clock = Clock()
    throttle = Throttle(1, 10.0, clock)
    assert throttle.wait(1) == 0
    for _ in range(20):
        clock.now += 0.4
        assert throttle.wait(1) > 0
    clock.now = 1010.0
    assert throttle.wait(1) == 0


def test_idle_users_are_forgotten() -> None:
    clock = Clock()
    throttle = Throttle(1, 1.0, clock)
    for user in range(10_001):
        throttle.wait(user)
    clock.now += 5
    throttle.wait(-1)
    assert len(throttle._seen) == 1
