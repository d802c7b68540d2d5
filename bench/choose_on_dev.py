"""Choose a training setting on dev data, never on the test split: each candidate is trained on the same data with the
same schedule, then scored on the run's *dev* split only: the pack's headline metric for the fine-tuned system
(paired bootstrap interval of the difference from the first candidate; metrics fitted on the base model's answers,
such as the brand-voice classifier, are held at the first candidate's fit) and the mean cross-entropy of the answer
tokens under each adapter's own prompt. Training time and tokens per example are reported beside them, since a
cheaper setting that is as good on dev buys more data or epochs inside the same budget.

python -m bench.choose_on_dev legal --candidates 'prompt=compact;prompt=minimal' [--data FILE] [--set k=v ...]
    [--tag NAME]
python -m bench.choose_on_dev ecommerce --reuse RUN --candidates 'decoding.x=a;decoding.x=b'   # no retraining
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import dev_as_held_out, save, table


def dev_answer_loss(run_dir: Path) -> float:
    """Mean cross-entropy per answer token on the dev split, each example under the adapter's own prompt."""
    import torch

    from core.formatting import tokenize_example
    from core.loaded_run import open_run

    loaded = open_run(run_dir, precision="fp32", require_adapter=True)
    total = count = 0.0
    with torch.no_grad():
        for ex in loaded.folder.load_split("dev"):
            tok = tokenize_example(loaded.tokenizer, loaded.prompt(ex, tuned=True), ex.target, loaded.max_length)
            ids = torch.tensor([tok.input_ids], device=loaded.model.device)
            mask = torch.tensor(tok.completion_mask[1:], dtype=torch.bool)
            logits = loaded.model(input_ids=ids).logits[0, :-1].float().cpu()
            losses = torch.nn.functional.cross_entropy(logits, ids[0, 1:].cpu(), reduction="none")
            total += float(losses[mask].sum())
            count += int(mask.sum())
    return total / max(count, 1)


def setting_label(lever: dict[str, Any], prefix: str = "") -> str:
    """{'lora': {'top_layers': 15}} -> 'lora.top_layers=15', as the setting was written on the command line."""
    parts = []
    for key, value in lever.items():
        if isinstance(value, dict):
            parts.append(setting_label(value, f"{prefix}{key}."))
        else:
            parts.append(f"{prefix}{key}={'null' if value is None else value}")
    return ",".join(parts)


def dev_predictions(
    run_dir: Path, system: str, overrides: dict[str, Any] | None = None
) -> tuple[float, dict[str, dict[str, Any]], dict[str, Any], Any]:
    """(headline, {example id: prediction row}, every scalar metric, the run's pack with its metric models fitted as
    evaluation fitted them) of one system on the run's dev split."""
    from core.evaluation import evaluate_run
    from core.loaded_run import load_run_pack

    with dev_as_held_out(run_dir, overrides) as scratch:
        results = evaluate_run(scratch, systems=[system], show_progress=False)
        rows = {r["id"]: r for r in scratch.read_predictions(system)}
        fitted = load_run_pack(scratch)
        if fitted.base_outputs_for_metrics:  # e.g. the brand-voice classifier, trained on base-model outputs
            base = {r["id"]: r["raw"] for r in scratch.read_predictions("base_on_train")}
            shown = [ex for ex in scratch.load_split("train") if ex.id in base]
            fitted.fit_metrics(shown, [base[ex.id] for ex in shown])
    scores = results.systems[system].model_dump(mode="json")
    scalars = {k: v for k, v in scores.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return results.systems[system].headline, rows, scalars, fitted


def paired_difference(pack: Any, rows: dict[str, dict[str, Any]], first: dict[str, dict[str, Any]]) -> dict[str, float]:
    """This candidate's dev headline minus the first candidate's, with a paired bootstrap interval over the
    examples both scored."""
    from core.stats import paired_bootstrap

    ids = sorted(rows.keys() & first.keys())
    refs = [rows[i]["reference"] for i in ids]
    scorers = {
        "this": pack.headline_scorer([rows[i]["parsed"] for i in ids], refs),
        "first": pack.headline_scorer([first[i]["parsed"] for i in ids], refs),
    }
    return paired_bootstrap(scorers, len(ids), seed=42).difference("this", "first").as_dict()


def scored_with(pack: Any, rows: dict[str, dict[str, Any]], texts: dict[str, str]) -> dict[str, float]:
    """Every scalar dev metric of these rows under one fitted pack. A metric fitted on the base model's own answers
    (the brand-voice classifier) moves with a decoding candidate, since those answers are decoded the same way; scored
    under the first candidate's fitted pack, candidates differ only by their answers."""
    ids = sorted(rows)
    scores = pack.metrics(
        [rows[i]["parsed"] for i in ids], [rows[i]["reference"] for i in ids], inputs=[texts[i] for i in ids]
    )
    return {k: v for k, v in scores.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def main() -> None:
    from core.config import build_config, merge_overrides, parse_overrides
    from core.pack import get_pack
    from core.pipeline import train_and_evaluate
    from core.run_folder import RunFolder

    ap = argparse.ArgumentParser()
    ap.add_argument("pack")
    ap.add_argument("--candidates", required=True, help="settings 'k=v,k=v;k=v' (the first is the reference)")
    ap.add_argument("--data", help="training file (default: the pack's bundled sample)")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="config override for every candidate")
    ap.add_argument("--system", default="tuned", help="system scored on dev")
    ap.add_argument("--output-dir", default="runs/bench")
    ap.add_argument("--tag", default="", help="suffix of the result file (bench/results/choose_on_dev_PACK_TAG.json)")
    ap.add_argument("--reuse", type=Path, help="a trained run: score decoding/evaluation candidates on it, no training")
    args = ap.parse_args()
    pack = get_pack(args.pack)
    candidates = [parse_overrides(c.split(",")) for c in args.candidates.split(";")]
    rows, found, first, first_pack = [], [], None, None
    for lever in candidates:
        cfg = build_config(
            pack_defaults=pack.default_config(),
            overrides=merge_overrides(
                {"pack": args.pack, "data": args.data or str(pack.sample_data_path()), "output_dir": args.output_dir},
                parse_overrides(args.sets),
                lever,
            ),
        )
        started = time.time()
        if args.reuse:
            run = args.reuse
        else:
            name = f"{args.pack}-dev-{time.strftime('%Y%m%d-%H%M%S')}"
            run = train_and_evaluate(args.pack, cfg, name=name, evaluate=False)
        training = RunFolder.open(run).read_results().training
        headline, predictions, dev_metrics, fitted = dev_predictions(run, args.system, lever if args.reuse else None)
        loss = dev_answer_loss(run)
        entry = {"lever": lever, "run_dir": str(run), "dev_headline": headline, "dev_answer_loss": loss,
                 "train_runtime_s": training.train_runtime_s, "global_step": training.global_step,
                 "tokens_per_example": training.train_tokens["tokens"] / max(training.train_tokens["examples"], 1),
                 "dev_examples": len(predictions), "dev_metrics": dev_metrics,
                 "dev_outputs": {i: r.get("raw") for i, r in sorted(predictions.items())},
                 "wall_s": time.time() - started}  # fmt: skip
        if first is None:
            first, first_pack = predictions, fitted
        else:
            entry["difference_vs_first"] = paired_difference(first_pack, predictions, first)
        texts = {ex.id: ex.text for ex in RunFolder.open(run).load_split("dev")}
        entry["dev_metrics_under_first_fit"] = scored_with(first_pack, predictions, texts)
        found.append(entry)
        print(f"{lever}: dev {pack.headline_metric} {headline:.3f}, dev answer loss {loss:.3f}", flush=True)
    for e in found:
        diff = e.get("difference_vs_first")
        rows.append([
            setting_label(e["lever"]), e["dev_headline"], e["dev_metrics_under_first_fit"].get(pack.headline_metric),
            f"{diff['estimate']:+.3f} [{diff['low']:+.3f}, {diff['high']:+.3f}]" if diff else "-",
            e["dev_answer_loss"], e["tokens_per_example"], e["global_step"], e["train_runtime_s"],
        ])  # fmt: skip
    header = ["setting", f"dev {pack.headline_metric}", "under the first's fit", "vs first [95% CI]", "dev answer loss",
              "tokens/example", "steps", "training s"]  # fmt: skip
    print(table(header, rows))
    print(f"dev examples: {found[0]['dev_examples']}; system scored: {args.system}")
    name = f"choose_on_dev_{args.pack}" + (f"_{args.tag}" if args.tag else "")
    print(f"wrote {save(name, {'candidates': found, 'settings': vars(args)})}")


if __name__ == "__main__":
    main()
