"""`vft serve RUN_DIR`: the fine-tuned model behind the API applications already speak, on the company's own
machine. FastAPI + uvicorn around the project's one way of opening a run (core.loaded_run.open_run):

- OpenAI-compatible `GET /v1/models` (the adapter's name as the model id) and `POST /v1/chat/completions`
  (streaming included, as server-sent events);
- `POST /v1/predict`: the pack's input in, the parsed output out (label with probabilities, form, copy), decoded
  exactly as evaluation decodes the system named (default: the best fine-tuned system of the run's evaluation);
- requests from concurrent clients are batched (one model call for up to `batch_size` waiting requests), a body
  size limit (413), a bounded queue (503 with Retry-After when full), optional bearer-token auth, `GET /health`;
- logs carry method, path, status, sizes and latency, never request or answer text.

Packs that scrub PII before training get their input scrubbed before the model sees it (the scrubber is handed in
by the command line, so core never imports redaction/)."""

from __future__ import annotations

import json
import logging
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request  # at module level: FastAPI resolves the endpoints' annotations against these globals

from core.loaded_run import LoadedRun

log = logging.getLogger("vft.serve")
DEFAULT_MAX_BODY = 64 * 1024
DEFAULT_QUEUE = 64
DEFAULT_BATCH = 8
BATCH_WAIT_S = 0.02  # how long the batcher waits for more requests to join a batch


@dataclass
class Job:
    kind: str  # "chat" or "predict"
    payload: Any
    system: str
    max_new_tokens: int | None = None
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class QueueFull(Exception):
    pass


class Batcher:
    """One worker thread owns the model. Requests wait in a bounded queue; the worker takes the first, waits a few
    milliseconds for others of the same kind and system, and answers them with one batched call."""

    def __init__(self, run: LoadedRun, *, batch_size: int = DEFAULT_BATCH, max_queue: int = DEFAULT_QUEUE):
        self.run, self.batch_size = run, batch_size
        self.jobs: queue.Queue[Job] = queue.Queue(maxsize=max_queue)
        self.held: list[Job] = []
        self.worker = threading.Thread(target=self._loop, daemon=True, name="vft-batcher")
        self.worker.start()

    def submit(self, job: Job, timeout: float = 600.0) -> Any:
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            raise QueueFull from None
        if not job.done.wait(timeout):
            raise TimeoutError("the model did not answer in time")
        if job.error is not None:
            raise job.error
        return job.result

    @property
    def waiting(self) -> int:
        return self.jobs.qsize()

    def _next_batch(self) -> list[Job]:
        first = self.held.pop(0) if self.held else self.jobs.get()
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                job = self.jobs.get(timeout=max(remaining, 0)) if remaining > 0 else self.jobs.get_nowait()
            except queue.Empty:
                break
            if (job.kind, job.system, job.max_new_tokens) == (first.kind, first.system, first.max_new_tokens):
                batch.append(job)
            else:
                self.held.append(job)  # answered in a later batch, in arrival order
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._next_batch()
            try:
                results = self._answer(batch)
                for job, result in zip(batch, results, strict=True):
                    job.result = result
            except BaseException as exc:  # every waiting client gets the error, the worker keeps serving
                for job in batch:
                    job.error = exc
            for job in batch:
                job.done.set()

    def _answer(self, batch: list[Job]) -> list[Any]:
        run, first = self.run, batch[0]
        if first.kind == "chat":
            gens = run.generate(
                [j.payload for j in batch],
                tuned=run.tuned,
                batch_size=len(batch),
                max_new_tokens=first.max_new_tokens,
            )
            return [(g.text, g.new_tokens) for g in gens]
        return predict_batch(run, [j.payload for j in batch], first.system)


def predict_batch(run: LoadedRun, texts: list[str], system: str) -> list[dict[str, Any]]:
    """The pack's inputs through one named system, decoded as evaluation decodes it."""
    from core.errors import ParseError
    from core.windows import generate_by_windows

    tuned = system.startswith("tuned")
    out: list[dict[str, Any]] = []
    if system.endswith("+scored"):
        prompts = [run.prompt(t, tuned=tuned) for t in texts]
        choices = run.pack.allowed_outputs() or []
        labels = [str(run.pack.parse(c)) for c in choices]
        for scored in run.score(prompts, choices, tuned=tuned):
            probs = dict(zip(labels, scored.probabilities, strict=True))
            out.append({"output": labels[scored.index], "raw": choices[scored.index], "probabilities": probs})
        return out
    gens = generate_by_windows(
        run.pack,
        texts,
        lambda pieces, _: run.generate(
            [run.prompt(t, tuned=tuned) for t in pieces],
            tuned=tuned,
            constrained=system.endswith("+constrained"),
            batch_size=len(pieces),
        ),
    )
    for g in gens:
        try:
            out.append({"output": run.pack.parse(g.text), "raw": g.text})
        except ParseError as exc:
            out.append({"output": None, "raw": g.text, "parse_error": str(exc)})
    return out


def servable_systems(run: LoadedRun) -> list[str]:
    """The language-model systems /v1/predict can run for this pack: zero-shot and (with an adapter) fine-tuned,
    free, constrained where the pack has a constraint, label-scored where it has a finite answer set."""
    out = []
    for base in ("zero_shot", *(["tuned"] if run.tuned else [])):
        out.append(base)
        if run.pack.constraint():
            out.append(f"{base}+constrained")
        if run.pack.allowed_outputs():
            out.append(f"{base}+scored")
    return out


def default_system(run: LoadedRun) -> str:
    """The best fine-tuned language-model system of the run's own evaluation (what its report recommends among
    the systems a server can run), else plain `tuned`."""
    if run.folder is None or not run.tuned:
        return "zero_shot"
    results = run.folder.read_results()
    tuned = {n: s.headline for n, s in results.systems.items() if n.startswith("tuned") and s.headline is not None}
    return max(tuned, key=tuned.__getitem__) if tuned else "tuned"


def create_app(
    run: LoadedRun,
    *,
    token: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    max_queue: int = DEFAULT_QUEUE,
    batch_size: int = DEFAULT_BATCH,
    scrub: Callable[[str], str] | None = None,
) -> Any:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title="vft serve", docs_url=None, redoc_url=None)
    batcher = Batcher(run, batch_size=batch_size, max_queue=max_queue)
    model_id = run.folder.name if run.folder is not None else run.base_model
    system = default_system(run)
    app.state.batcher, app.state.model_id, app.state.system = batcher, model_id, system
    servable = servable_systems(run)

    def error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> Any:
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status, headers=headers)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        if token is not None and request.url.path != "/health":
            given = request.headers.get("authorization", "")
            if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return error(401, "missing or wrong bearer token", "authentication_error")
        length = request.headers.get("content-length")
        if length is not None and int(length) > max_body:
            return error(413, f"request body over {max_body} bytes", "invalid_request_error")
        response = await call_next(request)
        log.info(
            "%s %s %s in=%s %.0fms",
            request.method,
            request.url.path,
            response.status_code,
            length or 0,
            1000 * (time.perf_counter() - started),
        )
        return response

    async def body(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > max_body:
            raise _HTTPError(413, f"request body over {max_body} bytes", "invalid_request_error")
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            raise _HTTPError(400, f"body is not JSON: {exc.msg}", "invalid_request_error") from None

    def clean(text: str) -> str:
        return scrub(text) if scrub is not None else text

    async def run_job(job: Job) -> Any:
        import anyio

        try:
            return await anyio.to_thread.run_sync(batcher.submit, job)
        except QueueFull:
            raise _HTTPError(503, "server busy: the request queue is full, retry shortly", "server_busy") from None

    @app.exception_handler(_HTTPError)
    async def handled(request: Request, exc: _HTTPError) -> Any:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return error(exc.status, exc.message, exc.kind, headers)

    @app.get("/health")
    async def health() -> Any:
        return {"status": "ok", "model": model_id, "queued": batcher.waiting, "device": run.device}

    @app.get("/v1/models")
    async def models() -> Any:
        return {"object": "list", "data": [{"id": model_id, "object": "model", "created": 0, "owned_by": "vft"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        data = await body(request)
        messages = data.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages)
        ):
            raise _HTTPError(400, "'messages' must be a list of {role, content}", "invalid_request_error")
        clean_messages = [{"role": str(m.get("role", "user")), "content": clean(m["content"])} for m in messages]
        max_tokens = data.get("max_tokens") or data.get("max_completion_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise _HTTPError(400, "'max_tokens' must be a positive integer", "invalid_request_error")
        job = Job("chat", clean_messages, "chat", min(max_tokens or 512, 2048) if max_tokens else None)
        created, completion_id = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if data.get("stream"):
            text, _ = await run_job(job)
            return StreamingResponse(_sse(text, completion_id, created, model_id), media_type="text/event-stream")
        text, n_new = await run_job(job)
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model_id,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"completion_tokens": n_new, "prompt_tokens": None, "total_tokens": None},
        }

    @app.post("/v1/predict")
    async def predict(request: Request) -> Any:
        data = await body(request)
        text = data.get("input")
        if not isinstance(text, str) or not text.strip():
            raise _HTTPError(400, "'input' must be a non-empty string", "invalid_request_error")
        chosen = data.get("system") or system
        if chosen not in servable:
            raise _HTTPError(
                400, f"system {chosen!r} is not served (one of {', '.join(servable)})", "invalid_request_error"
            )
        try:
            result = await run_job(Job("predict", clean(text), chosen))
        except _HTTPError:
            raise
        except Exception as exc:  # a model or decoding failure: a clear 500 without the request text in the log
            log.error("predict failed: %s", type(exc).__name__)
            raise _HTTPError(500, f"prediction failed ({type(exc).__name__})", "server_error") from None
        return {"model": model_id, "system": chosen, **result}

    return app


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, kind: str):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _sse(text: str, completion_id: str, created: int, model_id: str) -> Iterator[str]:
    """The answer as OpenAI's chat.completion.chunk events: a role chunk, content chunks, a stop chunk, [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        event = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model_id,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip
        return f"data: {json.dumps(event)}\n\n"

    yield chunk({"role": "assistant"})
    pieces = text.split(" ")
    for i, piece in enumerate(pieces):
        yield chunk({"content": piece + (" " if i < len(pieces) - 1 else "")})
    yield chunk({}, "stop")
    yield "data: [DONE]\n\n"


def serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)  # our middleware logs, without text
