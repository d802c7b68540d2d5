"""Generation speed: the batched Generator (left padding, similar lengths per batch) against one prompt at a time,
on the default model with 64 legal-pack prompts, greedy, measured side by side; checks that outputs agree.

python -m bench.generate_throughput [-n 64] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import time

from bench.common import save, table
from core.generate import Generator
from core.models import load_model, load_tokenizer, resolve, resolve_precision
from core.pack import get_pack


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    args = ap.parse_args()
    pack = get_pack("legal")
    examples = pack.load(pack.sample_data_path()).examples
    pack.fit(examples)
    prompts = [pack.prompt_messages(e) for e in examples[: args.n]]
    path = resolve("smollm2-135m")
    tok = load_tokenizer(path)
    tok.padding_side = "left"
    precision = resolve_precision("auto")
    gen = Generator(load_model(path, for_training=False), tok, precision=precision)
    gen.generate(prompts[:2], max_new_tokens=4, batch_size=2)  # warm-up
    t0 = time.perf_counter()
    single = gen.generate(prompts, max_new_tokens=args.max_new_tokens, batch_size=1)
    single_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched = gen.generate(prompts, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    batched_s = time.perf_counter() - t0
    same = sum(a.text == b.text for a, b in zip(single, batched, strict=True)) / len(prompts)
    rows = [
        ["one prompt at a time", len(prompts), single_s, len(prompts) / single_s],
        [f"batched ({args.batch_size})", len(prompts), batched_s, len(prompts) / batched_s],
    ]
    print(table(["path", "prompts", "seconds", "examples/s"], rows))
    ratio = single_s / batched_s
    print(f"speed-up: {ratio:.2f}x; identical outputs: {same:.1%} ({precision})")
    payload = {
        "prompts": len(prompts),
        "batch_size": args.batch_size,
        "single_s": single_s,
        "batched_s": batched_s,
        "ratio": ratio,
        "identical_fraction": same,
        "precision": precision,
    }
    print(f"wrote {save('generate_throughput', payload)}")


if __name__ == "__main__":
    main()
