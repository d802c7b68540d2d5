"""Redaction speed: documents/s of the batched path (BatchAnalyzerEngine -> spaCy nlp.pipe) and of the batched path
in one process per core (Detector(workers=N): spaCy and the recognizers in every process) against a naive loop of
per-document `analyze` calls, on the same 1,000 clinical-style notes, measured side by side in one run, with the
word-frequency cache emptied before each timed pass so no pass inherits another's warm-up. spaCy alone is timed the
same two ways: batching speeds up only spaCy's share of the work, so its own ratio bounds what batching can give.

python -m bench.redact_throughput [-n 1000]
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import save, table
from redaction.engine import Detector
from redaction.synth import generate


def notes(n: int) -> list[str]:
    """Note-sized documents: five synthetic sentences each."""
    sentences = [r["text"] for r in generate(n * 5, seed=11)]
    return [" ".join(sentences[i * 5 : (i + 1) * 5]) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000)
    args = ap.parse_args()
    docs = notes(args.n)
    from redaction import lexicons

    det = Detector("spacy", batch_size=64)
    det.detect(docs[0])  # warm-up: model load
    lexicons.zipf.cache_clear()
    t0 = time.perf_counter()
    naive = [det.detect(d) for d in docs]
    naive_s = time.perf_counter() - t0
    lexicons.zipf.cache_clear()
    t0 = time.perf_counter()
    batched = list(det.detect_many(docs))
    batched_s = time.perf_counter() - t0
    workers = os.cpu_count() or 1
    parallel_det = Detector("spacy", batch_size=64, workers=workers)
    lexicons.zipf.cache_clear()
    t0 = time.perf_counter()
    parallel = list(parallel_det.detect_many(docs))
    parallel_s = time.perf_counter() - t0
    nlp = det.analyzer.nlp_engine.nlp["en"]
    t0 = time.perf_counter()
    for d in docs:
        nlp(d)
    spacy_loop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in nlp.pipe(docs, batch_size=det.batch_size):
        pass
    spacy_pipe_s = time.perf_counter() - t0
    same = sum(a == b for a, b in zip(naive, batched, strict=True)) / len(docs)
    same_parallel = sum(a == b for a, b in zip(naive, parallel, strict=True)) / len(docs)
    rows = [
        ["naive per-document analyze", len(docs), naive_s, len(docs) / naive_s, 1.0],
        ["batched (nlp.pipe)", len(docs), batched_s, len(docs) / batched_s, naive_s / batched_s],
        [f"batched, {workers} processes", len(docs), parallel_s, len(docs) / parallel_s, naive_s / parallel_s],
        ["spaCy alone, per document", len(docs), spacy_loop_s, len(docs) / spacy_loop_s, naive_s / spacy_loop_s],
        ["spaCy alone, nlp.pipe", len(docs), spacy_pipe_s, len(docs) / spacy_pipe_s, naive_s / spacy_pipe_s],
    ]
    print(table(["path", "documents", "seconds", "docs/s", "x naive"], rows))
    ratio = naive_s / batched_s
    print(f"identical spans: batched {same:.1%}, parallel {same_parallel:.1%} of documents")
    ceiling = spacy_loop_s / spacy_pipe_s
    print(
        f"spaCy's share of the naive loop: {spacy_loop_s / naive_s:.0%}; nlp.pipe speeds spaCy alone {ceiling:.2f}x, "
        f"and the rest of the work is per document, so batching can be expected to stay below {ceiling:.2f}x in one "
        f"process and {workers * ceiling:.2f}x in {workers} (single runs here are noisy)"
    )
    payload = {
        "documents": len(docs),
        "naive_s": naive_s,
        "batched_s": batched_s,
        "parallel_s": parallel_s,
        "workers": workers,
        "ratio": ratio,
        "ratio_parallel": naive_s / parallel_s,
        "identical_fraction": same,
        "identical_fraction_parallel": same_parallel,
        "spacy_loop_s": spacy_loop_s,
        "spacy_pipe_s": spacy_pipe_s,
        "spacy_batching_ratio": ceiling,
        "batching_ceiling_parallel": workers * ceiling,
    }
    print(f"wrote {save('redact_throughput', payload)}")


if __name__ == "__main__":
    main()
