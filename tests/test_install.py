"""The installed packages are the checkout's, also from a folder that holds a data folder ``index/``.

The editable install puts the checkout on ``sys.path`` as a path entry (hatchling's ``.pth``), so
a regular package there wins over an ``index/`` folder of index files in the current directory,
which Python would otherwise take as a namespace package called ``index``. The children here get
this process's ``PYTHONPATH`` as it is, without the checkout put first, so the install is what
finds the packages.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import processes
from tests.support.paths import PROJECT

AS_INSTALLED = {"PYTHONPATH": os.environ.get("PYTHONPATH")}  # None: no PYTHONPATH at all


def test_a_data_folder_called_index_does_not_shadow_the_package(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("v-1\n")
    code = "import bot, index; print(index.__file__); print(bot.__file__)"
    found = processes.run(folder=tmp_path, env=AS_INSTALLED, code=code, timeout=120)
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == [str(PROJECT / "index" / "__init__.py"), str(PROJECT / "bot" / "__init__.py")]


def test_the_command_line_runs_from_such_a_folder(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    shown = processes.run("--help", folder=tmp_path, env=AS_INSTALLED, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "usage:" in shown.stdout
