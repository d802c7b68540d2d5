"""report.md and a self-contained report.html (plots embedded) from a run folder's results and logs."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from core.io import write_text
from core.results import RunResults
from core.run_folder import RunFolder
from core.verdict import metric_label

ORDER = (
    "nearest",
    "classical",
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


def _ordered(systems: dict[str, Any]) -> list[str]:
    return sorted(systems, key=lambda s: ORDER.index(s) if s in ORDER else len(ORDER))


def best_tuned_system(results: RunResults) -> str | None:
    return results.best(["tuned+constrained", "tuned"])


def make_plots(folder: RunFolder, results: RunResults) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.plots_dir.mkdir(exist_ok=True)
    made: list[Path] = []
    log = folder.read_train_log()
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
        fig.savefig(folder.plot_path("loss"), dpi=110)
        plt.close(fig)
        made.append(folder.plot_path("loss"))
    systems = results.systems
    if systems:
        names = _ordered(systems)
        values = [systems[n].headline or 0.0 for n in names]
        fig, ax = plt.subplots(figsize=(6.5, 3.5))
        bars = ax.barh(names, values, color=["#1f77b4" if n.startswith("tuned") else "#aaaaaa" for n in names])
        ax.bar_label(bars, fmt="%.3f")
        ax.set_xlim(0, 1.1)
        ax.set_xlabel(results.headline_metric or "headline")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(folder.plot_path("headline"), dpi=110)
        plt.close(fig)
        made.append(folder.plot_path("headline"))
    best = best_tuned_system(results)
    cm = getattr(systems[best], "confusion_matrix", None) if best else None
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
        fig.savefig(folder.plot_path("confusion_matrix"), dpi=110)
        plt.close(fig)
        made.append(folder.plot_path("confusion_matrix"))
    return made


def worst_errors(folder: RunFolder, system: str, limit: int = 10) -> list[dict[str, Any]]:
    """The first wrong answers of a system (unparseable first), with their input, for people to read."""
    preds = folder.read_predictions(system)
    texts = {ex.id: ex.text for ex in folder.load_split("test")} if folder.has_split("test") else {}
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


def error_table(errors: list[dict[str, Any]]) -> list[str]:
    lines = ["| id | reference | output | input |", "|---|---|---|---|"]
    for e in errors:
        cells = [str(e["id"]), str(e["reference"]), e["output"], e["input"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return lines


def _interval(s: dict[str, Any]) -> str:
    i = s.get("interval")
    if not i:
        return _fmt(s.get("headline"))
    return f"{i['estimate']:.3f} [{i['low']:.3f}, {i['high']:.3f}]"


def _cost(s: dict[str, Any], key: str, digits: int = 2) -> str:
    value = (s.get("cost") or {}).get(key)
    return "–" if value is None else f"{value:.{digits}f}"


def verdict_lines(results: RunResults) -> list[str]:
    """The verdict block that opens report.md (and report.html): which system to ship, in one sentence."""
    a = results.assessment
    if a:
        return [f"> **Assessment: {a['sentence']}.**", ">", f"> Rule: {a['rule']}.", ""]
    v = results.verdict or {}
    if not v.get("ship"):
        return []
    lines = [f"> **Verdict: {v['sentence']}.**", ">", f"> Ship `{v['ship']}`"]
    if v.get("runner_up"):
        lines[-1] += f"; runner-up `{v['runner_up']}`"
    lines[-1] += f". Fine-tuning: **{v['fine_tuning']}**. Rule: {v['rule']}."
    return [*lines, ""]


def _markdown(folder: RunFolder, results: RunResults) -> str:
    systems = {name: s.model_dump() for name, s in results.systems.items()}
    training = results.training.model_dump() if results.training else {}
    data = results.data or {}
    head = results.headline_metric or "headline"
    how = (results.evaluation or {}).get("examples", f"{results.test_examples or 0} held-out examples")
    lines = [f"# Run report: {folder.name}", "", *verdict_lines(results)]
    lines += [f"**Warning:** {w}." for w in results.warnings]
    lines += [
        "",
        f"Pack **{results.pack}**, base model **{results.base_model}**. Scored: {how} (never used in training); "
        "intervals are 95% paired-bootstrap intervals over those examples.",
        "",
        "## Systems compared",
        "",
        f"| system | {metric_label(head)} [95% CI] | accuracy | parse rate | examples/s | latency p50 / p95 (s) | "
        "peak RSS (MB) | training (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in _ordered(systems):
        s = systems[name]
        lines.append(
            f"| {name} | {_interval(s)} | {_fmt(s.get('accuracy'))} | {_fmt(s.get('parse_rate'))} | "
            f"{_cost(s, 'examples_per_second')} | {_cost(s, 'latency_p50_s')} / {_cost(s, 'latency_p95_s')} | "
            f"{_cost(s, 'peak_rss_mb', 0)} | {_cost(s, 'training_seconds', 0)} |"
        )
    lines += [
        "",
        "Systems: `nearest` = the answer of the most similar training example; `classical` = TF-IDF + logistic "
        "regression trained on the training split; `zero_shot` = base model with the pack's prompt; `few_shot` = base "
        "model with the k most similar training examples; `few_shot_random` (opt-in) = k random training examples; "
        "`tuned` = the LoRA adapter; `+constrained` = decoding limited to valid outputs. Latency is what one caller "
        "waits (a whole batch for batched decoding); peak RSS is this process while the system ran.",
        "",
    ]
    left_out = (results.evaluation or {}).get("systems_left_out")
    if left_out:
        lines += [f"Left out: {'; '.join(left_out)}.", ""]
    lines += _label_issue_section(data)
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
        ]
        if training.get("time_budget"):
            from core.train_budget import BudgetFit

            lines.append(f"- {BudgetFit.from_json(training['time_budget']).message()}")
        lines.append("")
    if data:
        lines += ["## Data", "", "```json", json.dumps(data, indent=2)[:4000], "```", ""]
    best = best_tuned_system(results)
    if best:
        errs = worst_errors(folder, best)
        lines += [f"## Errors of `{best}` (first {len(errs)})", "", *error_table(errs), ""]
    lines += ["## Plots", ""] + [f"![{p.stem}]({p.relative_to(folder.path).as_posix()})" for p in folder.plots()]
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


def _label_issue_section(data: dict[str, Any]) -> list[str]:
    issues = data.get("label_issues") or {}
    if not issues.get("suspects"):
        return []
    lines = [
        "## Data quality: training rows that may be mislabelled",
        "",
        f"{issues['count']} of {issues['checked']} training rows look mislabelled ({issues['method']}); the first "
        f"{len(issues['suspects'])} are listed for review. Nothing was dropped.",
        "",
        "| id | given | suggested | p(given) | text |",
        "|---|---|---|---|---|",
    ]
    for s in issues["suspects"]:
        cells = [str(s["id"]), s["given"], s["suggested"], f"{s['given_label_probability']:.2f}", s["text"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
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
            f"{red.get('entities_total')}. Counts only; see {RunFolder.REDACTION_AUDIT}."
        )
    return [*lines, ""]


def _inline(text: str) -> str:
    """**bold** and `code` spans of one Markdown line, HTML-escaped."""
    import re

    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def _html(md_text: str, folder: RunFolder) -> str:
    """Minimal Markdown -> HTML (tables, headings, lists, code, images inlined as base64)."""
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>vft report</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}"
        "pre{background:#f5f5f5;padding:1em;overflow:auto;font-size:12px}img{max-width:100%}"
        "#verdict{border-left:6px solid #1f77b4;background:#eef5fb;margin:1em 0;padding:.4em 1em;font-size:16px}"
        "</style></head><body>"
    ]
    in_table = in_code = in_list = in_quote = False
    quotes = 0
    for line in md_text.splitlines():
        if line.startswith(">"):
            if not in_quote:
                quotes += 1
                out.append("<blockquote id='verdict'>" if quotes == 1 else "<blockquote>")
                in_quote = True
            body = line[1:].strip()
            if body:
                out.append(f"<p>{_inline(body)}</p>")
            continue
        if in_quote:
            out.append("</blockquote>")
            in_quote = False
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
            data = base64.b64encode((folder.path / rel).read_bytes()).decode()
            out.append(f"<p><img alt='{html.escape(rel)}' src='data:image/png;base64,{data}'></p>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    if in_table:
        out.append("</table>")
    if in_quote:
        out.append("</blockquote>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(run_dir: str | Path | RunFolder) -> tuple[Path, Path]:
    folder = run_dir if isinstance(run_dir, RunFolder) else RunFolder(run_dir)
    results = folder.read_results()
    make_plots(folder, results)
    md_text = _markdown(folder, results)
    md = write_text(folder.report_md_path, md_text)
    page = write_text(folder.report_html_path, _html(md_text, folder))
    return md, page
