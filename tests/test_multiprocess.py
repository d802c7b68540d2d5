"""`vft train` under `accelerate launch` with 2 CPU processes (gloo): both ranks train on the data rank 0 prepared,
one adapter is saved, and the loss matches a single-process run with the same global batch."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LABELS, TEMPLATES, run_vft, write_jsonl

pytestmark = pytest.mark.slow  # two training processes: run by `make test` (CI)
ROOT = Path(__file__).resolve().parents[1]
ACCELERATE = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or "accelerate"


def _data(tmp: Path) -> Path:
    words = "north south east west river lake hill vale field stone brook wood".split()
    rows = [
        {"id": f"c{i}", "text": TEMPLATES[LABELS[i % 3]].format(f"{words[i % 12]} {words[(i * 5) % 12]} {i}"),
         "label": LABELS[i % 3], "contract": f"k{i}"}
        for i in range(48)
    ]  # fmt: skip
    return write_jsonl(tmp / "clauses.jsonl", rows)


def _losses(run: Path) -> list[float]:
    lines = (run / "train_log.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines if '"loss"' in line]


def test_two_cpu_processes_train_one_adapter(tiny_model, tmp_path):
    data = _data(tmp_path)
    common = [
        "train", "legal", "--data", str(data), "--base-model", str(tiny_model), "--output-dir", str(tmp_path / "runs"),
        "--max-steps", "6", "--no-eval", "--set", "max_length=256", "--set", "logging_steps=1",
        "--set", "learning_rate=0.005", "--set", "packing=false", "--set", "eval_fraction=0",
    ]  # fmt: skip
    single = run_vft(*common, "--name", "single", "--set", "grad_accum=4")
    assert single.returncode == 0, single.stderr
    launch = [
        ACCELERATE, "launch", "--config_file", str(ROOT / "core" / "accelerate" / "ddp_cpu.yaml"),
        "--num_processes", "2", "--main_process_port", "29533", "-m", "core.cli",
        *common, "--name", "ddp", "--set", "grad_accum=2",
    ]  # fmt: skip
    ddp = subprocess.run(launch, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    runs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert runs == ["ddp", "single"]  # one shared folder for both ranks, no "ddp-2"
    run = tmp_path / "runs" / "ddp"
    results = json.loads((run / "results.json").read_text())
    assert results["training"]["world_size"] == 2 and results["training"]["global_step"] == 6
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    multi, one = _losses(run), _losses(tmp_path / "runs" / "single")
    assert len(multi) == len(one) == 6
    assert abs(multi[0] - one[0]) / one[0] < 0.15  # same model, same global batch size: same starting loss
    assert abs(sum(multi) / 6 - sum(one) / 6) / (sum(one) / 6) < 0.25
