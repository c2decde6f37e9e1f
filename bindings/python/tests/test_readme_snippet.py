"""The Python example of README-snippet.md (pasted into the README) runs as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import QUICK

SNIPPET = Path(__file__).resolve().parents[1] / "README-snippet.md"


def snippet_code():
    blocks = re.findall(r"```python\n(.*?)```", SNIPPET.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "README-snippet.md must hold exactly one python block"
    return blocks[0]


@pytest.mark.skipif(QUICK, reason="starts a Python subprocess (not under emulation)")
def test_readme_example_runs(smollm2_path, smollm2_reference, tmp_path):
    env = dict(os.environ, EDGE_MODELS=str(Path(smollm2_path).parent))
    out = subprocess.run(
        [sys.executable, "-c", snippet_code()],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    prompt = smollm2_reference["prompts"][0]
    assert prompt["text"] == "The capital of France is"
    assert lines[0] == str(prompt["tokens"])  # llama.cpp's ids for the prompt
    assert "Paris" in lines[1]
    assert lines[-1].startswith("IO ")
