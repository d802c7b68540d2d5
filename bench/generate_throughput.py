"""Generation speed, measured side by side in one process on the default model, greedy:

1. legal prompts: one prompt at a time vs batched (left padding, similar lengths per batch) vs batched with the
   shared prompt prefix (system prompt + label list) computed once and its KV cache copied to every row; outputs
   compared with the one-at-a-time answers (identical in fp32, where the three are the same arithmetic);
2. the clinical form: free vs JSON-schema-constrained decoding of the same prompts (the cost of the constraint),
   per example and per decoding step after the prompts' prefill (timed apart, as answers of one new token); free
   decoding also as the evaluation runs it (the pack's end rules: where the JSON object closes, or a loop), which is
   what a user's free system costs.

python -m bench.generate_throughput [-n 64] [--batch-size 16] [--clinical 8] [--precision fp32|auto]
(-n 0 skips the legal part; --clinical 0 the clinical one; --tag NAME saves generate_throughput_NAME.json)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from bench.common import save, table
from core.generate import Decoding, Generator
from core.models import load_model, load_tokenizer, resolve, resolve_precision
from core.pack import get_pack


def _prompts(pack_name: str, n: int) -> tuple[Any, list[Any]]:
    pack = get_pack(pack_name)
    examples = pack.load(pack.sample_data_path()).examples
    pack.fit(examples)
    return pack, [pack.prompt_messages(e) for e in examples[:n]]


def _timed(gen: Generator, prompts: Sequence[Any], **kwargs: Any) -> tuple[float, list[Any]]:
    t0 = time.perf_counter()
    out = gen.generate(prompts, **kwargs)
    return time.perf_counter() - t0, out


class _ConstraintClock:
    """Seconds spent inside the JSON-schema logits processor: the constraint's own work, apart from the model's.
    (Time per generated token alone misleads: constrained answers are shorter, so the same prompt prefill is spread
    over fewer tokens.)"""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> _ConstraintClock:
        import core.constrained as constrained

        self._module, self._original = constrained, constrained.json_schema_processor

        def timed(*args: Any, **kwargs: Any) -> Any:
            processor = self._original(*args, **kwargs)
            clock = self

            class _Timed(type(processor)):  # type: ignore[misc]
                def __call__(self, input_ids: Any, scores: Any) -> Any:
                    t0 = time.perf_counter()
                    try:
                        return processor(input_ids, scores)
                    finally:
                        clock.seconds += time.perf_counter() - t0

            return _Timed()

        constrained.json_schema_processor = timed
        return self

    def __exit__(self, *exc: object) -> None:
        self._module.json_schema_processor = self._original


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=64, help="legal prompts")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--clinical", type=int, default=8, help="clinical prompts for the constrained-cost arm (0 = skip)")
    ap.add_argument("--clinical-new-tokens", type=int, default=160)
    ap.add_argument("--precision", default="fp32", help="fp32 (outputs comparable bit for bit) or auto")
    ap.add_argument("--tag", help="save as bench/results/generate_throughput_TAG.json (default: no suffix)")
    args = ap.parse_args()
    path = resolve("smollm2-135m")
    tok = load_tokenizer(path)
    tok.padding_side = "left"
    precision = resolve_precision(args.precision)
    model = load_model(path, precision=precision, for_training=False)
    plain = Generator(model, tok, precision=precision, reuse_prefix=False)
    reuse = Generator(model, tok, precision=precision, reuse_prefix=True)

    payload: dict[str, Any] = {"precision": precision}
    if args.n:
        payload["legal"] = _legal(args, plain, reuse)
    if args.clinical:
        payload["clinical"] = _clinical(args, reuse)
    name = f"generate_throughput_{args.tag}" if args.tag else "generate_throughput"
    print(f"wrote {save(name, payload)}")


def _legal(args: argparse.Namespace, plain: Generator, reuse: Generator) -> dict[str, Any]:
    _, legal = _prompts("legal", args.n)
    plain.generate(legal[:2], max_new_tokens=4, batch_size=2)  # warm-up
    new = args.max_new_tokens
    single_s, single = _timed(plain, legal, max_new_tokens=new, batch_size=1)
    batched_s, batched = _timed(plain, legal, max_new_tokens=new, batch_size=args.batch_size)
    reused_s, reused = _timed(reuse, legal, max_new_tokens=new, batch_size=args.batch_size)

    def same(a: list[Any], b: list[Any]) -> float:
        return sum(x.text == y.text for x, y in zip(a, b, strict=True)) / len(a)

    n = len(legal)
    rows = [
        ["one prompt at a time", n, single_s, n / single_s, 1.0, 1.0],
        [f"batched ({args.batch_size})", n, batched_s, n / batched_s, single_s / batched_s, same(single, batched)],
        ["batched + prefix KV reuse", n, reused_s, n / reused_s, single_s / reused_s, same(single, reused)],
    ]
    print(table(["legal", "prompts", "seconds", "examples/s", "x one-at-a-time", "identical"], rows))
    return {
        "prompts": n,
        "batch_size": args.batch_size,
        "max_new_tokens": new,
        "single_s": single_s,
        "batched_s": batched_s,
        "reused_s": reused_s,
        "ratio_batched": single_s / batched_s,
        "ratio_reused": single_s / reused_s,
        "identical_batched": same(single, batched),
        "identical_reused": same(single, reused),
    }


def _clinical(args: argparse.Namespace, reuse: Generator) -> dict[str, Any]:
    pack, clinical = _prompts("clinical", args.clinical)
    n = len(clinical)
    kw = {"max_new_tokens": args.clinical_new_tokens, "batch_size": args.batch_size}
    # one-time set-up of the constraint (the vocabulary's token classes, lm-format-enforcer's token tree), paid
    # once per process and tokenizer: timed apart so that the per-example cost below is the steady state
    setup_s, _ = _timed(reuse, clinical[:1], max_new_tokens=2, batch_size=1, **pack.constraint())
    prefill_s, _ = _timed(reuse, clinical, **{**kw, "max_new_tokens": 1})
    free_s, free = _timed(reuse, clinical, **kw)
    ended_s, ended = _timed(reuse, clinical, **kw, answer_end=Decoding.for_run(pack).answer_end)
    with _ConstraintClock() as clock:
        cons_s, cons = _timed(reuse, clinical, **kw, **pack.constraint())
    tokens = {name: sum(g.new_tokens for g in out) for name, out in (("free", free), ("ended", ended), ("cons", cons))}

    def per_step(seconds: float, new_tokens: int) -> float:
        """Seconds per decoded token after the prefill (the prefill also wrote each answer's first token)."""
        return (seconds - prefill_s) / max(new_tokens - n, 1)

    rows = [
        ["prefill only (1 new token)", n, prefill_s, n, "-"],
        ["free, to the budget", n, free_s, tokens["free"], per_step(free_s, tokens["free"]) * 1000],
        ["free, the evaluation's end rules", n, ended_s, tokens["ended"], per_step(ended_s, tokens["ended"]) * 1000],
        ["JSON-schema constrained", n, cons_s, tokens["cons"], per_step(cons_s, tokens["cons"]) * 1000],
    ]
    print(table(["clinical form", "prompts", "seconds", "new tokens", "ms per decoded token"], rows))
    step_overhead = per_step(cons_s, tokens["cons"]) / per_step(free_s, tokens["free"]) - 1.0
    print(
        f"constrained costs {cons_s / free_s - 1.0:+.0%} per example against free decoding to the budget, "
        f"{cons_s / ended_s - 1.0:+.0%} against free decoding with the evaluation's end rules, {step_overhead:+.0%} "
        f"per decoded token after the prefill; inside the constraint {clock.seconds:.1f} s "
        f"({clock.seconds / cons_s:.1%} of the constrained run); one-time set-up {setup_s:.1f} s"
    )
    return {
        "prompts": n,
        "max_new_tokens": args.clinical_new_tokens,
        "prefill_s": prefill_s,
        "free_s": free_s,
        "free_ended_s": ended_s,
        "constrained_s": cons_s,
        "free_new_tokens": tokens["free"],
        "free_ended_new_tokens": tokens["ended"],
        "constrained_new_tokens": tokens["cons"],
        "overhead_per_decoded_token": step_overhead,
        "overhead_per_example": cons_s / free_s - 1.0,
        "overhead_per_example_vs_ended": cons_s / ended_s - 1.0,
        "constraint_setup_s": setup_s,
        "inside_constraint_s": clock.seconds,
    }


if __name__ == "__main__":
    main()
