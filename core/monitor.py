"""`vft monitor RUN_DIR --data new_labelled.csv`: is the deployed model still as good as it was on its held-out
data? Scores the deployed system on newly labelled rows, compares its headline metric with the run's own held-out
figure by a bootstrap over both sets (the new examples and the run's held-out predictions), and says what changed
in the data: label distribution (total variation distance), labels never seen in training, input length.

A drop is significant when the 95% interval of (new - held-out) lies below 0; the command then exits non-zero,
so a cron job or CI step can alert on it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.loaded_run import open_run
from core.pack import Example
from core.serve import default_system, predict_batch
from core.stats import percentile_interval

RESAMPLES = 1000


def _labels(examples: Sequence[Any]) -> Counter:
    return Counter(str(r) for r in examples if isinstance(r, (str, int)))


def data_drift(train: Sequence[Example], held_out: Sequence[Example], new: Sequence[Example]) -> dict[str, Any]:
    old_labels, new_labels = _labels([e.reference for e in held_out]), _labels([e.reference for e in new])
    seen = {str(e.reference) for e in train}
    out: dict[str, Any] = {
        "input_chars_mean": {
            "held_out": float(np.mean([len(e.text) for e in held_out])) if held_out else None,
            "new": float(np.mean([len(e.text) for e in new])) if new else None,
        }
    }
    if new_labels:
        keys = set(old_labels) | set(new_labels)
        p = {k: old_labels[k] / max(sum(old_labels.values()), 1) for k in keys}
        q = {k: new_labels[k] / max(sum(new_labels.values()), 1) for k in keys}
        out["label_distribution"] = {"held_out": dict(old_labels), "new": dict(new_labels)}
        out["label_total_variation"] = 0.5 * sum(abs(p[k] - q[k]) for k in keys)
        out["labels_not_seen_in_training"] = sorted(set(new_labels) - seen)
    return out


def monitor(run_dir: str | Path, data: str | Path, *, system: str | None = None, seed: int = 0) -> dict[str, Any]:
    from core.predict import read_inputs

    run = open_run(run_dir, require_adapter=True)
    folder, pack = run.folder, run.pack
    assert folder is not None
    chosen = system or default_system(run)
    new = [e for e in read_inputs(pack, Path(data)) if e.reference is not None]
    if not new:
        from core.errors import DataError

        raise DataError("no labelled rows to score (monitoring needs the true answers)", file=str(data))
    answers = predict_batch(run, [e.text for e in new], chosen)
    new_parsed = [a["output"] for a in answers]
    new_refs = [e.reference for e in new]
    old_rows = folder.read_predictions(chosen)
    if not old_rows:
        from core.errors import RunError

        raise RunError(f"{folder.path}: no held-out predictions for {chosen} (run `vft eval` first)")
    test = {e.id: e for e in folder.load_split("test")}
    old_parsed = [r["parsed"] for r in old_rows]
    old_refs = [test[r["id"]].reference if r["id"] in test else r["reference"] for r in old_rows]
    new_score = pack.headline_scorer(new_parsed, new_refs, [e.text for e in new])
    old_score = pack.headline_scorer(old_parsed, old_refs, None)
    rng = np.random.default_rng(seed)
    new_idx = rng.integers(0, len(new), size=(RESAMPLES, len(new)))
    old_idx = rng.integers(0, len(old_rows), size=(RESAMPLES, len(old_rows)))
    new_est, old_est = new_score(np.arange(len(new))), old_score(np.arange(len(old_rows)))
    diffs = np.array([new_score(a) - old_score(b) for a, b in zip(new_idx, old_idx, strict=True)])
    diff = percentile_interval(new_est - old_est, diffs)
    new_interval = percentile_interval(new_est, np.array([new_score(a) for a in new_idx]))
    drop = diff.high < 0
    metric = pack.headline_metric
    verdict = (
        f"quality dropped: {metric} {new_est:.3f} [{new_interval.low:.3f}, {new_interval.high:.3f}] on the new data "
        f"vs {old_est:.3f} held out (difference {diff.estimate:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}])"
        if drop
        else f"no significant drop: {metric} {new_est:.3f} [{new_interval.low:.3f}, {new_interval.high:.3f}] vs "
        f"{old_est:.3f} held out (difference {diff.estimate:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}])"
    )
    return {
        "system": chosen,
        "metric": metric,
        "new": {"examples": len(new), **new_interval.as_dict()},
        "held_out": {"examples": len(old_rows), "estimate": old_est},
        "difference": diff.as_dict(),
        "significant_drop": drop,
        "verdict": verdict,
        "data": data_drift(folder.load_split("train"), list(test.values()), new),
    }
