"""The README's "Write your own pack" guide, followed to the letter: its code blocks are written into a temp
folder, installed as their own distribution, found through the entry point, their tests run, and the fourth pack
is trained and evaluated on the tiny model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(\w+) (vft-triage/\S+)\n(.*?)^```", re.S | re.M)


def guide_files() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Write your own pack")
    end = readme.find("\n## ", start + 10)
    return {path: body for _, path, body in BLOCK.findall(readme[start : end if end != -1 else None])}


def test_the_guide_holds_every_file_of_a_pack():
    assert set(guide_files()) == {
        "vft-triage/pyproject.toml",
        "vft-triage/vft_triage/__init__.py",
        "vft-triage/vft_triage/pack.py",
        "vft-triage/vft_triage/configs/default.yaml",
        "vft-triage/vft_triage/data/sample.jsonl",
        "vft-triage/tests/test_triage.py",
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("guide")
    for rel, body in guide_files().items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
    site = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target",
         str(site), str(tmp / "vft-triage")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return tmp, env


def _vft(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "from core.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600)


def test_the_installed_pack_is_found_and_its_own_tests_pass(installed):
    tmp, env = installed
    listed = _vft(env, "packs")
    assert listed.returncode == 0 and "triage" in listed.stdout, listed.stderr
    options = _vft(env, "packs", "--options", "triage")
    assert "team_column" in options.stdout
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp / "vft-triage" / "tests")],
        capture_output=True, text=True, env=env, cwd=tmp,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_the_fourth_pack_trains_and_is_evaluated(installed, tiny_model):
    tmp, env = installed
    out = _vft(
        env, "train", "triage", "--base-model", str(tiny_model), "--output-dir", str(tmp / "runs"), "--name", "toy",
        "--max-steps", "2", "--set", "systems=[zero_shot,tuned]", "--set", "eval_batch_size=8",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads((tmp / "runs" / "toy" / "results.json").read_text())
    assert results["pack"] == "triage" and {"zero_shot", "tuned", "tuned+constrained"} <= set(results["systems"])
    assert results["systems"]["tuned+constrained"]["parse_rate"] == 1.0
    assert (tmp / "runs" / "toy" / "adapter" / "adapter_config.json").is_file()
