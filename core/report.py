"""report.md and a self-contained report.html (plots embedded) from a run folder's results and logs."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from core.io import read_json, write_text

ORDER = (
    "zero_shot",
    "zero_shot+constrained",
    "few_shot_random",
    "few_shot_random+constrained",
    "few_shot",
    "few_shot+constrained",
    "tuned",
    "tuned+constrained",
)


def _fmt(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, float) else ("–" if x is None else str(x))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ordered(systems: dict[str, Any]) -> list[str]:
    return sorted(systems, key=lambda s: ORDER.index(s) if s in ORDER else len(ORDER))


def make_plots(run_dir: Path, results: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    made: list[Path] = []
    log = _read_jsonl(run_dir / "train_log.jsonl")
    train_pts = [(r["step"], r["loss"]) for r in log if "loss" in r]
    eval_pts = [(r["step"], r["eval_loss"]) for r in log if "eval_loss" in r]
    if train_pts:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(*zip(*train_pts, strict=True), label="train loss")
        if eval_pts:
            ax.plot(*zip(*eval_pts, strict=True), marker="o", label="eval loss")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(plots / "loss.png", dpi=110)
        plt.close(fig)
        made.append(plots / "loss.png")
    systems = results.get("systems", {})
    if systems:
        names = _ordered(systems)
        values = [systems[n].get("headline") or 0.0 for n in names]
        fig, ax = plt.subplots(figsize=(6.5, 3.5))
        bars = ax.barh(names, values, color=["#1f77b4" if n.startswith("tuned") else "#aaaaaa" for n in names])
        ax.bar_label(bars, fmt="%.3f")
        ax.set_xlim(0, 1.1)
        ax.set_xlabel(results.get("headline_metric", "headline"))
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(plots / "headline.png", dpi=110)
        plt.close(fig)
        made.append(plots / "headline.png")
    best = next((n for n in ("tuned+constrained", "tuned") if n in systems), None)
    cm = systems.get(best, {}).get("confusion_matrix") if best else None
    if cm and cm.get("matrix"):
        import numpy as np

        labels, matrix = cm["labels"], np.array(cm["matrix"])
        keep = [i for i in range(len(labels)) if matrix[i].sum() or matrix[:, i].sum()]
        matrix = matrix[np.ix_(keep, keep)]
        labels = [labels[i] for i in keep]
        fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(labels), 0.8 + 0.5 * len(labels)))
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        for i in range(len(labels)):
            for j in range(len(labels)):
                if matrix[i, j]:
                    ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("reference")
        ax.set_title(f"confusion matrix ({best})", fontsize=9)
        fig.tight_layout()
        fig.savefig(plots / "confusion_matrix.png", dpi=110)
        plt.close(fig)
        made.append(plots / "confusion_matrix.png")
    return made


def worst_errors(run_dir: Path, system: str, limit: int = 10) -> list[dict[str, Any]]:
    preds = _read_jsonl(run_dir / "predictions" / f"{system}.jsonl")
    texts = {r["id"]: r["text"] for r in _read_jsonl(run_dir / "data" / "test.jsonl")}
    wrong = [p for p in preds if not p.get("correct")]
    wrong.sort(key=lambda p: p.get("parsed") is not None)  # unparseable first
    return [
        {
            "id": p["id"],
            "input": texts.get(p["id"], "")[:240],
            "reference": p["reference"],
            "output": p["raw"][:200],
            "error": p.get("parse_error"),
        }
        for p in wrong[:limit]
    ]


def _markdown(run_dir: Path, results: dict[str, Any]) -> str:
    systems = results.get("systems", {})
    training = results.get("training", {})
    data = results.get("data", {})
    head = results.get("headline_metric", "headline")
    lines = [
        f"# Run report: {run_dir.name}",
        "",
        f"Pack **{results.get('pack')}**, base model **{results.get('base_model')}**, "
        f"{results.get('test_examples', 0)} held-out examples (never used in training).",
        "",
        "## Does fine-tuning beat prompting?",
        "",
        f"| system | {head} | accuracy | parse rate | examples/s |",
        "|---|---|---|---|---|",
    ]
    for name in _ordered(systems):
        s = systems[name]
        lines.append(
            f"| {name} | {_fmt(s.get('headline'))} | {_fmt(s.get('accuracy'))} | "
            f"{_fmt(s.get('parse_rate'))} | {_fmt(s.get('examples_per_second'))} |"
        )
    lines += [
        "",
        "Systems: `zero_shot` = base model with the pack's prompt; `few_shot` = base model with the k most "
        "similar training examples; `few_shot_random` (opt-in) = k random training examples; `tuned` = the LoRA "
        "adapter; `+constrained` = decoding limited to valid outputs.",
        "",
    ]
    lines += _per_field_section(systems)
    lines += _privacy_section(data)
    if training:
        tt = training.get("train_tokens", {})
        lines += [
            "## Training",
            "",
            f"- steps: {training.get('global_step')}, time: {training.get('train_runtime_s')} s, "
            f"tokens/s: {training.get('tokens_per_second')} "
            f"(supervised {training.get('supervised_tokens_per_second')})",
            f"- training examples: {tt.get('examples')}, tokens: {tt.get('tokens')}, "
            f"truncated inputs: {tt.get('inputs_truncated_to_fit_max_length')}, "
            f"dropped as too long: {tt.get('dropped_too_long')}",
            f"- final train loss: {_fmt(training.get('final_train_loss'))}, best eval loss: "
            f"{_fmt(training.get('best_eval_loss'))}",
            "",
        ]
    if data:
        lines += ["## Data", "", "```json", json.dumps(data, indent=2)[:4000], "```", ""]
    best = next((n for n in ("tuned+constrained", "tuned") if n in systems), None)
    if best:
        errs = worst_errors(run_dir, best)
        lines += [
            f"## Errors of `{best}` (first {len(errs)})",
            "",
            "| id | reference | output | input |",
            "|---|---|---|---|",
        ]
        for e in errs:
            cells = [str(e["id"]), str(e["reference"]), e["output"], e["input"]]
            lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
        lines.append("")
    lines += ["## Plots", ""] + [f"![{p.stem}](plots/{p.name})" for p in sorted((run_dir / "plots").glob("*.png"))]
    return "\n".join(lines) + "\n"


def _per_field_section(systems: dict[str, Any]) -> list[str]:
    """Packs that score fields (extraction) report per-field F1; fields without reference data are named."""
    names = [n for n in _ordered(systems) if isinstance(systems[n].get("per_field"), dict)]
    if not names:
        return []
    fields = list(systems[names[0]]["per_field"])
    lines = [
        "## Per-field F1",
        "",
        "| field | scored on | " + " | ".join(names) + " |",
        "|---" * (len(names) + 2) + "|",
    ]
    for f in fields:
        scored = systems[names[0]]["per_field"][f].get("examples_scored")
        cells = [_fmt(systems[n]["per_field"].get(f, {}).get("f1")) if scored else "not scored" for n in names]
        lines.append(f"| {f} | {scored} | " + " | ".join(cells) + " |")
    missing = systems[names[0]].get("fields_without_reference") or []
    if missing:
        lines += ["", f"Not scored (no reference data in this set): {', '.join(missing)}."]
    return [*lines, ""]


def _privacy_section(data: dict[str, Any]) -> list[str]:
    red = data.get("redaction") or {}
    status = red.get("status")
    if status in (None, "not_required"):
        return []
    lines = ["## Privacy", ""]
    if status == "unredacted_allowed":
        lines.append("**WARNING: trained on UNREDACTED data (allow_unredacted was set).**")
    elif status == "already_scrubbed":
        lines.append("The input file carried a scrubbing audit matching its contents; it was not scrubbed again.")
    else:
        lines.append(
            f"Inputs were scrubbed before training ({red.get('operator')} replacement, {red.get('detector')} "
            f"detector): {red.get('rows_changed')} of {red.get('rows')} texts changed; entities replaced: "
            f"{red.get('entities_total')}. Counts only; see redaction_audit.json."
        )
    return [*lines, ""]


def _html(md_text: str, run_dir: Path) -> str:
    """Minimal Markdown -> HTML (tables, headings, lists, code, images inlined as base64)."""
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>vft report</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}"
        "pre{background:#f5f5f5;padding:1em;overflow:auto;font-size:12px}img{max-width:100%}</style></head><body>"
    ]
    in_table = in_code = in_list = False
    for line in md_text.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            if set(line) <= set("|-"):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{html.escape(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line[level:].strip())}</h{level}>")
        elif line.startswith("![") and "](" in line:
            rel = line[line.index("](") + 2 : -1]
            data = base64.b64encode((run_dir / rel).read_bytes()).decode()
            out.append(f"<p><img alt='{html.escape(rel)}' src='data:image/png;base64,{data}'></p>")
        elif line.strip():
            out.append(f"<p>{html.escape(line).replace('**', '')}</p>")
    if in_table:
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(run_dir: str | Path) -> tuple[Path, Path]:
    run_dir = Path(run_dir)
    results = read_json(run_dir / "results.json") if (run_dir / "results.json").is_file() else {}
    make_plots(run_dir, results)
    md_text = _markdown(run_dir, results)
    md = write_text(run_dir / "report.md", md_text)
    page = write_text(run_dir / "report.html", _html(md_text, run_dir))
    return md, page
