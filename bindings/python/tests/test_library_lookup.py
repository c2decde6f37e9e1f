"""Where edgerun finds libedge: $EDGE_LIBRARY, else next to the package, else the system."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import edgerun
from edgerun import _lib

from conftest import QUICK

pytestmark = pytest.mark.skipif(QUICK, reason="starts Python subprocesses (not under emulation)")


def _loaded_path():
    return _lib.load()._name


def _run(code, env, cwd):
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_found_next_to_the_package(tmp_path):
    package = Path(edgerun.__file__).parent
    copy = tmp_path / "edgerun"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "lib*.so"))
    shutil.copy(_loaded_path(), copy / "libedge.so")
    env = {k: v for k, v in os.environ.items() if k not in ("EDGE_LIBRARY", "PYTHONPATH")}
    out = _run(
        "import edgerun, edgerun._lib as l; print(edgerun.version()); print(l.load()._name)",
        env,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    version, path = out.stdout.split()
    assert version == edgerun.version()
    assert Path(path) == copy / "libedge.so"


def test_missing_library_is_a_clear_error(tmp_path):
    env = dict(os.environ, EDGE_LIBRARY=str(tmp_path / "no-libedge.so"))
    out = _run("import edgerun; edgerun.version()", env, tmp_path)
    assert out.returncode != 0
    assert "cannot load libedge" in out.stderr and "no-libedge.so" in out.stderr
