"""`vft serve` as a client sees it: the official openai client (chat, streaming), plain HTTP for /v1/predict,
200 requests from 8 concurrent clients all answered, an oversize request and a full queue answered with clear
errors while the server keeps serving, bearer-token auth, and no request text in the server's logs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PLANTED = "Quigleymarker Bartholomew"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(run: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str, Path]:
    port = _free_port()
    log = run.parent / f"serve-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from core.cli import main; main()", "serve", str(run), "--port", str(port), *args],
        stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc, url, log
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not start")


def _post(url: str, path: str, payload: dict, headers: dict | None = None) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url + path, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)


@pytest.fixture(scope="module")
def server(small_run):
    proc, url, log = _start(small_run, "--max-queue", "64")
    yield url, log
    proc.terminate()
    proc.wait(timeout=30)


def test_openai_client_chat_and_stream(server):
    from openai import OpenAI

    url, _ = server
    client = OpenAI(base_url=url + "/v1", api_key="unused")
    models = client.models.list()
    assert [m.id for m in models.data] == ["small"]
    out = client.chat.completions.create(
        model="small", messages=[{"role": "user", "content": f"Governing law of Delaware. {PLANTED}"}], max_tokens=8
    )
    assert out.choices[0].message.role == "assistant" and isinstance(out.choices[0].message.content, str)
    pieces = list(client.chat.completions.create(
        model="small", messages=[{"role": "user", "content": "Neither party may assign."}], max_tokens=8, stream=True
    ))  # fmt: skip
    assert pieces[-1].choices[0].finish_reason == "stop"
    assert "".join(p.choices[0].delta.content or "" for p in pieces) is not None


def test_predict_returns_the_parsed_output_and_the_system(server):
    url, _ = server
    status, body, _ = _post(url, "/v1/predict", {"input": f"This Agreement is governed by Ohio law. {PLANTED}"})
    assert status == 200 and body["system"].startswith("tuned") and body["model"] == "small"
    assert body["output"] in ("Governing Law", "Anti-Assignment", "Cap on Liability") or body["output"] is None
    status, scored, _ = _post(
        url, "/v1/predict", {"input": "Liability shall not exceed fees.", "system": "tuned+scored"}
    )
    assert status == 200 and abs(sum(scored["probabilities"].values()) - 1) < 1e-6
    assert _post(url, "/v1/predict", {"input": ""})[0] == 400
    status, body, _ = _post(url, "/v1/predict", {"input": "x", "system": "nonsense"})
    assert status == 400 and "tuned+scored" in body["error"]["message"]


def test_load_200_requests_from_8_clients(server):
    url, _ = server
    texts = [f"Neither party may assign this Agreement to party {i} without consent." for i in range(200)]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda t: _post(url, "/v1/predict", {"input": t, "system": "tuned+constrained"}), texts)
        )
    seconds = time.perf_counter() - started
    assert all(status == 200 and body["output"] is not None for status, body, _ in results)
    assert len(results) / seconds > 0  # figures for the default model: bench/serve_load.py


def test_oversize_request_is_refused_and_the_server_keeps_serving(server):
    url, _ = server
    status, body, _ = _post(url, "/v1/predict", {"input": "x" * (70 * 1024)})
    assert status == 413 and "over" in body["error"]["message"]
    assert _post(url, "/v1/predict", {"input": "Governing law of Texas."})[0] == 200


def test_logs_hold_no_request_text(server):
    _, log = server
    text = log.read_text()
    assert "/v1/predict" in text and PLANTED not in text and "Quigleymarker" not in text


def test_a_full_queue_answers_503_then_recovers(small_run):
    proc, url, _ = _start(small_run, "--max-queue", "1", "--batch-size", "1")
    try:
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(
                lambda i: _post(url, "/v1/chat/completions",
                                {"messages": [{"role": "user", "content": f"clause {i}"}], "max_tokens": 48})[0:3:2],
                range(24),
            ))  # fmt: skip
        codes = [s for s, _ in statuses]
        assert 503 in codes and 200 in codes
        assert all({k.lower(): v for k, v in h.items()}.get("retry-after") == "1" for s, h in statuses if s == 503)
        assert _post(url, "/v1/predict", {"input": "Governing law of Utah."})[0] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_bearer_token_is_required_when_set(small_run, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-token\n")
    proc, url, log = _start(small_run, "--token-file", str(token))
    try:
        assert _post(url, "/v1/predict", {"input": "Governing law."})[0] == 401
        ok = _post(url, "/v1/predict", {"input": "Governing law."}, {"Authorization": "Bearer s3cret-token"})
        assert ok[0] == 200
        assert urllib.request.urlopen(url + "/health").status == 200  # health stays open for load balancers
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "s3cret-token" not in log.read_text()


def test_exported_adapter_has_what_vllm_loads(small_run, tmp_path):
    from core.export import export_run

    out = tmp_path / "adapter"
    export_run(small_run, out)
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["r"] > 0 and config["target_modules"]
    assert (out / "adapter_model.safetensors").is_file()
    assert (out / "tokenizer.json").is_file() or (out / "tokenizer_config.json").is_file()
