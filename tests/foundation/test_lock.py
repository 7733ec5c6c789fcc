"""The committed locks (requirements/) against pyproject.toml: `make install` refuses a lock that no
longer matches, naming what differs (requirements/check_lock.py, run on a copy of the project files)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check(tmp_path: Path, edit=None) -> subprocess.CompletedProcess:  # noqa: ANN001 - a function of the text
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(edit(pyproject) if edit else pyproject, encoding="utf-8")
    return subprocess.run([sys.executable, str(tmp_path / "requirements" / "check_lock.py")], capture_output=True,
                          text=True, timeout=60, check=False)


def test_the_committed_lock_matches_pyproject(tmp_path):
    done = check(tmp_path)
    assert done.returncode == 0, done.stderr


def test_a_new_dependency_without_make_lock_is_named(tmp_path):
    done = check(tmp_path, lambda text: text.replace('dependencies = [\n', 'dependencies = [\n  "left-pad-ncpeh>=1.0",\n', 1))
    assert done.returncode == 1
    assert "run `make lock`" in done.stderr and "left-pad-ncpeh>=1.0 (runtime) is not in requirements/lock.txt" in done.stderr


def test_a_range_that_excludes_the_locked_version_is_named(tmp_path):
    done = check(tmp_path, lambda text: text.replace('"flask>=3.0"', '"flask>=99"', 1))
    assert done.returncode == 1 and "flask>=99 (runtime) does not allow the locked flask==" in done.stderr
