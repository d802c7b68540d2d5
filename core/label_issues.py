"""Likely mislabelled training rows (classification packs): out-of-sample label probabilities from the classical
baseline by stratified cross-validation, then cleanlab's find_label_issues (confident learning). The suspects are
listed in data_report.json and the report for a person to check; nothing is dropped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from core.pack import Example

MAX_FOLDS = 5
SHOWN = 20


def find_label_issues(train: Sequence[Example], *, seed: int, shown: int = SHOWN) -> dict[str, Any]:
    labels = [ex.reference for ex in train]
    if not all(isinstance(lab, str) for lab in labels):
        return {"skipped": "multi-label or structured targets: not checked"}
    counts = Counter(labels)
    if len(counts) < 2:
        return {"skipped": "fewer than two labels in the training split"}
    folds = min(MAX_FOLDS, min(counts.values()))
    if folds < 2:
        rare = ", ".join(sorted(lab for lab, c in counts.items() if c < 2))
        return {"skipped": f"a label has a single training row ({rare}): cross-validation impossible"}
    import numpy as np
    from cleanlab.filter import find_label_issues as cleanlab_issues
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from core.baselines import ClassicalSystem

    classes = sorted(counts)
    y = np.array([classes.index(lab) for lab in labels])
    texts = [ex.text for ex in train]
    model = ClassicalSystem.pipeline(1.0, False, seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    probs = cross_val_predict(model, texts, y, cv=cv, method="predict_proba")
    ranked = cleanlab_issues(labels=y, pred_probs=probs, return_indices_ranked_by="self_confidence")
    suspects = [
        {
            "id": train[i].id,
            "given": labels[i],
            "suggested": classes[int(probs[i].argmax())],
            "given_label_probability": round(float(probs[i][y[i]]), 3),
            "text": train[i].text[:160],
        }
        for i in ranked[:shown]
    ]
    return {
        "method": f"cleanlab find_label_issues on {folds}-fold out-of-sample probabilities of TF-IDF + logistic "
        "regression; ranked by the probability of the given label",
        "checked": len(train),
        "count": len(ranked),
        "suspects": suspects,
        "note": "listed for review; nothing was dropped",
    }
