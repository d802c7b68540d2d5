"""Faults users cause: kill -9 in the middle of training and of redaction output, two runs started at once, and
safety defaults (no pickled weights, no remote code, no secrets in run folders or logs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import LABELS, TEMPLATES, write_jsonl

pytestmark = pytest.mark.slow  # subprocesses and kill -9: minutes of CPU; run by `make test` (CI)
CLI = [sys.executable, "-c", "from core.cli import main; main()"]
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()


def _clauses(tmp: Path, n: int = 60) -> Path:
    rows = []
    for i in range(n):
        lab = LABELS[i % 3]
        place = " ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(4))
        rows.append({"id": f"c{i}", "text": TEMPLATES[lab].format(f"{place} {i}"), "label": lab, "contract": f"k{i}"})
    return write_jsonl(tmp / "clauses.jsonl", rows)


def _wait_for(predicate, timeout: float, proc: subprocess.Popen) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _train_until_killed(tmp_path: Path, tiny_model: Path, name: str, ready, *, max_steps: int, save_steps: int) -> Path:
    """Start `vft train`, kill -9 it once `ready(run_dir)` holds, and return the run folder."""
    run_dir = tmp_path / "runs" / name
    args = [
        *CLI, "train", "legal", "--data", str(_clauses(tmp_path)), "--base-model", str(tiny_model),
        "--output-dir", str(tmp_path / "runs"), "--name", name, "--max-steps", str(max_steps), "--no-eval",
        "--set", f"save_steps={save_steps}", "--set", "eval_steps=1000", "--set", "max_length=512",
    ]  # fmt: skip
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    reached = _wait_for(lambda: ready(run_dir), 240, proc)
    assert reached, f"the run ended before the kill point: {proc.stderr.read() if proc.poll() is not None else ''}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return run_dir


def _resume(run_dir: Path) -> dict:
    resumed = subprocess.run(
        [*CLI, "train", "--resume", str(run_dir), "--no-eval"], capture_output=True, text=True, timeout=600
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    return json.loads((run_dir / "results.json").read_text())["training"]


def test_kill_9_after_a_checkpoint_then_resume(tiny_model, tmp_path):
    def checkpointed(run_dir: Path) -> bool:
        return any(run_dir.glob("checkpoints/checkpoint-*/trainer_state.json"))

    run_dir = _train_until_killed(tmp_path, tiny_model, "killed", checkpointed, max_steps=40, save_steps=2)
    assert not (run_dir / "adapter").exists()
    training = _resume(run_dir)
    assert training["resumed_from"] and "checkpoint-" in training["resumed_from"]
    assert training["global_step"] == 40

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), str(run_dir / "adapter"))
    assert model.peft_config["default"].r > 0


def test_kill_9_before_any_checkpoint_then_resume_starts_clean(tiny_model, tmp_path):
    def logged_a_step(run_dir: Path) -> bool:
        log = run_dir / "train_log.jsonl"
        return log.is_file() and '"loss"' in log.read_text(encoding="utf-8")

    run_dir = _train_until_killed(tmp_path, tiny_model, "early", logged_a_step, max_steps=12, save_steps=1000)
    assert not any(run_dir.glob("checkpoints/checkpoint-*")) and not (run_dir / "adapter").exists()
    training = _resume(run_dir)
    assert training["resumed_from"] is None and training["global_step"] == 12
    log = (run_dir / "train_log.jsonl").read_text(encoding="utf-8")
    steps = [json.loads(line)["step"] for line in log.splitlines() if '"loss"' in line]
    assert steps == sorted(set(steps)), f"the log of the killed attempt was kept beside the new one: {steps}"
    assert (run_dir / "adapter" / "adapter_model.safetensors").is_file()


def test_kill_9_during_redaction_leaves_no_output(tmp_path):
    rows = [{"note": f"Patient John Carter, MRN 4455{i:04d}, phone (617) 555-{i % 10000:04d}."} for i in range(40_000)]
    src = write_jsonl(tmp_path / "notes.jsonl", rows)
    out = tmp_path / "clean.jsonl"
    proc = subprocess.Popen(
        [*CLI, "redact", str(src), "--fields", "note", "--detector", "regex", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(8)
    assert proc.poll() is None, "redaction finished before it could be killed; make the input larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    from redaction.scrub import is_scrubbed

    assert not out.exists()  # written through a temp file + rename: never half a file under the real name
    assert not is_scrubbed(out)
    assert not (tmp_path / "clean.redaction_audit.json").exists()


def test_two_runs_started_at_once_get_distinct_folders(tmp_path):
    from core.run_folder import RunFolder

    made: list[Path] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        made.append(RunFolder.create(tmp_path, "legal").path)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({p.resolve() for p in made}) == 8


def test_concurrent_runs_do_not_share_temp_files(tiny_model, tmp_path):
    data = _clauses(tmp_path, 36)
    procs = [
        subprocess.Popen(
            [
                *CLI,
                "train",
                "legal",
                "--data",
                str(data),
                "--base-model",
                str(tiny_model),
                "--output-dir",
                str(tmp_path / "runs"),
                "--max-steps",
                "2",
                "--no-eval",
                "--set",
                "max_length=512",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    for run in runs:
        assert (run / "adapter" / "adapter_model.safetensors").is_file()
        assert not [p for p in run.rglob("*") if ".tmp" in p.name]  # no temp leftovers


def test_pickled_weights_are_never_loaded(tiny_model, tmp_path):
    import shutil

    from core.errors import VftError
    from core.models import load_model

    folder = tmp_path / "bin-only"
    shutil.copytree(tiny_model, folder)
    for f in folder.glob("*.safetensors"):
        f.unlink()
    (folder / "pytorch_model.bin").write_bytes(b"not really a pickle")
    with pytest.raises((VftError, OSError, ValueError)):
        load_model(str(folder), precision="fp32", for_training=False)


def test_remote_code_is_off_by_default():
    from core.config import RunConfig

    assert RunConfig().model.trust_remote_code is False


def test_secrets_in_the_environment_stay_out_of_runs_and_logs(tiny_model, tmp_path):
    secrets = {"HF_TOKEN": "hf_SECRET_token_123", "VFT_DEMO_PASSWORD": "pw-SECRET-456", "WANDB_API_KEY": "wandb-SECRET"}
    env = {**os.environ, **secrets}
    proc = subprocess.run(
        [*CLI, "train", "legal", "--data", str(_clauses(tmp_path, 36)), "--base-model", str(tiny_model),
         "--output-dir", str(tmp_path / "runs"), "--name", "s", "--max-steps", "2", "--set", "max_length=512",
         "--set", "max_eval_examples=2", "--set", "systems=[zero_shot]"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    blobs = [proc.stdout, proc.stderr] + [
        p.read_bytes().decode("utf-8", "ignore") for p in (tmp_path / "runs" / "s").rglob("*") if p.is_file()
    ]
    for value in secrets.values():
        assert not any(value in b for b in blobs)
