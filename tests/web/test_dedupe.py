"""Update ids taken once: in one process, and across processes sharing a folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bot.web.dedupe import RecentUpdates, SharedUpdates


def test_recent_updates_takes_each_id_once_within_its_window() -> None:
    seen = RecentUpdates(capacity=3)
    assert [seen.first_time(i) for i in (1, 2, 1, 3, 2)] == [True, True, False, True, False]
    assert seen.first_time(4) and len(seen) == 3  # 1, the oldest, drops out of the window
    assert 1 not in seen and seen.first_time(1)
    seen.forget(1)
    assert seen.first_time(1)


def test_workers_sharing_a_folder_take_each_id_once(tmp_path: Path) -> None:
    a, b = SharedUpdates(tmp_path / "seen"), SharedUpdates(tmp_path / "seen")
    assert a.first_time(10) and not b.first_time(10) and not a.first_time(10)
    assert b.first_time(11) and not a.first_time(11)
    b.forget(11)  # b could not queue it after all: another worker may take it
    assert SharedUpdates(tmp_path / "seen").first_time(11)


def test_old_records_are_pruned(tmp_path: Path) -> None:
    seen = SharedUpdates(tmp_path / "seen", keep_seconds=60, prune_every=3)
    seen.first_time(1)
    hour_ago = time.time() - 3600
    os.utime(tmp_path / "seen" / "1", (hour_ago, hour_ago))
    seen.first_time(2)
    seen.first_time(3)  # the third insert prunes
    assert sorted(p.name for p in (tmp_path / "seen").iterdir()) == ["2", "3"]


def test_an_unusable_folder_falls_back_to_this_process(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    seen = SharedUpdates(blocker / "seen")
    assert seen.first_time(1) and not seen.first_time(1)
