"""Generation batches for windowed inputs: rows per batch and token caps, side by side in one process.

The clinical pack reads a visit window by window (~700-token prompts); it used to answer them 4 rows at a time, a
batch size chosen for whole visits (~2,000-3,000 tokens). On a CPU a decoding step costs about the same for 4 rows as
for 16, so this times the same window prompts of the bundled clinical sample (the base model, the pack's JSON-schema
constraint, greedy) at each configuration and counts the answers that stay identical (bf16 rounding depends on the
batch's composition, fp32 does not).

python -m bench.window_batches [--windows 32] [--configs 4 16 16:16384] [--precision auto|fp32]
    (a config is ROWS or ROWS:TOKENS, the evaluation's eval_batch_size and eval_batch_tokens: the most rows and
    tokens the rolling batch of core.rolling_batch holds at once)
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.common import save, table
from core.generate import Generator
from core.models import load_model, load_tokenizer, resolve, resolve_precision
from core.pack import get_pack
from core.windows import split_into_windows


def _config(text: str) -> tuple[int, int | None]:
    rows, _, tokens = text.partition(":")
    return int(rows), int(tokens) if tokens else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=32, help="window prompts answered per configuration")
    ap.add_argument("--configs", nargs="+", default=["4", "16:16384"], help="ROWS or ROWS:TOKENS")
    ap.add_argument("--window-chars", type=int, default=1600)
    ap.add_argument("--max-new-tokens", type=int, default=200, help="the clinical benchmark's decoding budget")
    ap.add_argument("--precision", default="auto")
    args = ap.parse_args()

    pack = get_pack("clinical", {"window_chars": args.window_chars})
    examples = pack.load(pack.sample_data_path()).examples
    pack.fit(examples)
    pieces, _ = split_into_windows(pack, examples)
    prompts = [pack.prompt_messages(p) for p in pieces[: args.windows]]
    path = resolve("smollm2-135m")
    precision = resolve_precision(args.precision)
    model = load_model(path, precision=precision, for_training=False)
    gen = Generator(model, load_tokenizer(path), precision=precision)
    gen.generate(prompts[:1], max_new_tokens=2, batch_size=1, **pack.constraint())  # the constraint's one-time set-up

    runs: list[dict[str, Any]] = []
    first: list[str] | None = None
    for text in args.configs:
        rows, tokens = _config(text)
        t0 = time.perf_counter()
        out = gen.generate(
            prompts, max_new_tokens=args.max_new_tokens, batch_size=rows, batch_tokens=tokens, **pack.constraint()
        )
        seconds = time.perf_counter() - t0
        answers = [g.text for g in out]
        first = first or answers
        runs.append({
            "config": text, "rows": rows, "tokens": tokens, "seconds": seconds,
            "windows_per_s": len(prompts) / seconds, "new_tokens": sum(g.new_tokens for g in out),
            "identical_to_first": sum(a == b for a, b in zip(first, answers, strict=True)) / len(answers),
        })  # fmt: skip
        print(f"{text}: {seconds:.1f} s", flush=True)
    base = runs[0]["windows_per_s"]
    for r in runs:
        r["speed_up"] = r["windows_per_s"] / base
    print(table(
        ["rows[:tokens]", "seconds", "windows/s", "x first", "new tokens", "identical to first"],
        [[r["config"], r["seconds"], r["windows_per_s"], r["speed_up"], r["new_tokens"],
          r["identical_to_first"]] for r in runs],
    ))  # fmt: skip
    print(f"precision {precision}; {len(prompts)} windows of {args.window_chars} characters, bundled clinical sample")
    print(f"wrote {save('window_batches', {'precision': precision, 'windows': len(prompts), 'runs': runs})}")


if __name__ == "__main__":
    main()
