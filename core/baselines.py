"""The strongest simple alternatives, scored beside the language-model systems with the pack's own metrics:

- `classical` (classification packs): TF-IDF word 1-2-grams + logistic regression (scikit-learn), fitted on the
  training split, its C chosen on the dev split by the pack's headline metric, label probabilities kept.
- `nearest` (every pack): the answer of the most similar training example (the same TF-IDF retrieval as few-shot),
  adapted by the pack (Pack.nearest_answer: e-commerce puts the product's own name in).

A pack may replace either with a stronger one of its own through Pack.systems()."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from core.pack import Example, Pack, TaskKind
from core.systems import Answer, System, SystemContext, register

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
MIN_DEV = 5  # fewer dev examples than this: C is chosen by 3-fold cross-validation on the training split


def _labels(reference: Any) -> tuple[str, ...] | str:
    return tuple(reference) if isinstance(reference, (list, tuple)) else str(reference)


class ClassicalSystem(System):
    name = "classical"

    def __init__(self) -> None:
        self.chosen: dict[str, Any] = {}
        self.fitted: tuple[Any, Any] | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "prompting": "none",
            "weights": "none",
            "decoding": "direct",
            "tier": "classical",
            "model": "TF-IDF word 1-2-grams + logistic regression",
            **self.chosen,
        }

    def available(self, pack: Pack, *, tuned_available: bool) -> bool:
        return pack.kind is TaskKind.CLASSIFY

    @property
    def uses_model(self) -> bool:
        return False

    @staticmethod
    def pipeline(c: float, multi_label: bool, seed: int) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline

        lr = LogisticRegression(C=c, max_iter=3000, random_state=seed)
        return make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            OneVsRestClassifier(lr) if multi_label else lr,
        )

    def fit(self, pack: Pack, train: Sequence[Example], dev: Sequence[Example], seed: int) -> Any:
        from sklearn.preprocessing import MultiLabelBinarizer

        multi = any(isinstance(ex.reference, (list, tuple)) for ex in train)
        texts = [ex.text for ex in train]
        binarizer = MultiLabelBinarizer() if multi else None
        y: Any = (
            binarizer.fit_transform([_labels(ex.reference) for ex in train])
            if binarizer
            else [_labels(ex.reference) for ex in train]
        )
        if not multi and len(set(y)) < 2:
            raise ValueError("the training split has one label only")

        def predict(model: Any, items: Sequence[Example]) -> list[Any]:
            out = model.predict([ex.text for ex in items])
            return [list(binarizer.classes_[row.astype(bool)]) for row in out] if binarizer else list(out)

        def headline(model: Any, items: Sequence[Example]) -> float:
            score = pack.metrics(predict(model, items), [ex.reference for ex in items])
            return float(score.get(pack.headline_metric) or 0.0)

        scores: dict[float, float] = {}
        if len(dev) >= MIN_DEV:
            for c in C_GRID:
                scores[c] = headline(self.pipeline(c, multi, seed).fit(texts, y), dev)
            how = f"dev split ({len(dev)} examples)"
        else:
            import numpy as np
            from sklearn.model_selection import KFold

            folds = list(KFold(n_splits=min(3, len(train)), shuffle=True, random_state=seed).split(texts))
            for c in C_GRID:
                fold_scores = []
                for tr, va in folds:
                    y_tr = y[tr] if binarizer else [y[i] for i in tr]
                    if not binarizer and len(set(y_tr)) < 2:
                        continue
                    model = self.pipeline(c, multi, seed).fit([texts[i] for i in tr], y_tr)
                    fold_scores.append(headline(model, [train[i] for i in va]))
                scores[c] = float(np.mean(fold_scores)) if fold_scores else 0.0
            how = "3-fold cross-validation on the training split (dev split too small)"
        best_c = max(C_GRID, key=lambda c: (scores[c], -c))  # ties go to the stronger regularisation
        self.chosen = {"C": best_c, "C_chosen_on": how, "C_scores": {str(c): round(v, 4) for c, v in scores.items()}}
        model = self.pipeline(best_c, multi, seed).fit(texts, y)
        return model, binarizer

    def prepare(self, ctx: SystemContext) -> float:
        """Fit once per evaluation: a pooled system reuses the fit (and its chosen C) through the context."""
        started = time.perf_counter()
        if "classical" not in ctx.cache:
            ctx.cache["classical"] = (self.fit(ctx.pack, ctx.train, ctx.dev, ctx.config.seed), self.chosen)
        self.fitted, self.chosen = ctx.cache["classical"]
        return time.perf_counter() - started

    def answer(self, ctx: SystemContext, examples: Sequence[Example]) -> list[Answer]:
        if self.fitted is None:
            self.prepare(ctx)
        model, binarizer = self.fitted  # type: ignore[misc]
        started = time.perf_counter()
        proba = model.predict_proba([ex.text for ex in examples])
        seconds = (time.perf_counter() - started) / max(len(examples), 1)
        classes = list(binarizer.classes_) if binarizer is not None else list(model.classes_)
        answers = []
        for row in proba:
            probs = {str(c): float(p) for c, p in zip(classes, row, strict=True)}
            if binarizer is not None:
                label: Any = sorted(c for c, p in probs.items() if p >= 0.5)
            else:
                label = max(probs, key=probs.__getitem__)
            answers.append(Answer(ctx.pack.format_answer(label), seconds, probabilities=probs))
        ctx.progress(len(examples))
        return answers


class NearestSystem(System):
    """The answer of the most similar training example: a retrieval baseline that costs nothing to run."""

    name = "nearest"

    def describe(self) -> dict[str, Any]:
        return {
            "prompting": "none",
            "weights": "none",
            "decoding": "direct",
            "tier": "nearest",
            "model": "the most similar training example's answer (TF-IDF retrieval, as few-shot)",
        }

    @property
    def uses_model(self) -> bool:
        return False

    def answer(self, ctx: SystemContext, examples: Sequence[Example]) -> list[Answer]:
        answers = []
        for ex in examples:
            started = time.perf_counter()
            neighbour = ctx.retriever.nearest(ex.text, 1)[0]
            text = ctx.pack.nearest_answer(ex, neighbour)
            answers.append(Answer(text, time.perf_counter() - started))
        ctx.progress(len(examples))
        return answers


register("classical", ClassicalSystem)
register("nearest", NearestSystem)
