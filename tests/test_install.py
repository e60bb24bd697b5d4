"""The installed packages are the checkout's, also from a folder that holds a data folder ``index/``.

The editable install puts the checkout on ``sys.path`` as a path entry (hatchling's ``.pth``), so
a regular package there wins over an ``index/`` folder of index files in the current directory,
which Python would otherwise take as a namespace package called ``index``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def test_a_data_folder_called_index_does_not_shadow_the_package(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("v-1\n")
    found = subprocess.run(
        [sys.executable, "-c", "import bot, index; print(index.__file__); print(bot.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert found.stdout.split() == [str(PROJECT / "index" / "__init__.py"), str(PROJECT / "bot" / "__init__.py")]


def test_the_command_line_runs_from_such_a_folder(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert "usage:" in shown.stdout
