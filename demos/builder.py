"""The shared Gradio builder: a task-shaped input, base and fine-tuned answers side by side with latency, the
parsed result rendered for people, and a tab with the run's evidence (headline numbers, plots, worst errors).

Safe defaults: binds 127.0.0.1, no share link, analytics off, optional basic auth from VFT_DEMO_USER /
VFT_DEMO_PASSWORD, an input length limit, one request at a time through Gradio's queue, the model loaded once."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

MAX_INPUT_CHARS = 12_000
HOST = "127.0.0.1"


@dataclass
class AppSpec:
    """What differs between packs: how input is collected and how a parsed answer is shown."""

    pack: str
    title: str
    input_label: str
    render: Callable[[Any, Any, str], str]  # (run_model, parsed, input text) -> markdown
    preprocess: Callable[[str], tuple[str, dict[str, Any]]] | None = None  # text -> (model input, extra outputs)
    extra_inputs: Callable[[], list[Any]] | None = None  # e.g. the e-commerce attribute form
    combine_inputs: Callable[..., str] | None = None  # extra input values -> text
    notes: list[str] = field(default_factory=list)


def check_length(text: str) -> str:
    import gradio as gr

    if not text or not text.strip():
        raise gr.Error("Enter some text first (or click an example).")
    if len(text) > MAX_INPUT_CHARS:
        raise gr.Error(f"Input is {len(text):,} characters; the limit is {MAX_INPUT_CHARS:,}. Shorten it and retry.")
    return text


def _evidence(run_dir: Path | None) -> tuple[str, list[str]]:
    """The run's held-out results, read from results.json fields (never from the report's text)."""
    if run_dir is None:
        return "No run folder given: the app runs the base model only. Train with `vft train` first.", []
    from core.report import best_tuned_system, error_table, worst_errors
    from core.run_folder import RunFolder

    folder = RunFolder(run_dir)
    results = folder.read_results()
    if not results.systems:
        return f"`{run_dir}` has no results yet (run `vft eval {run_dir}`).", []
    head = results.headline_metric or "headline"
    lines = [f"### {folder.name}: held-out results", "", f"| system | {head} | parse rate |", "|---|---|---|"]
    for name, s in results.systems.items():
        h = f"{s.headline:.3f}" if s.headline is not None else "–"
        p = f"{s.parse_rate:.2f}" if s.parse_rate is not None else "–"
        lines.append(f"| {name} | {h} | {p} |")
    best = best_tuned_system(results)
    if best:
        errors = worst_errors(folder, best)
        lines += ["", f"### Errors of `{best}` (first {len(errors)})", "", *error_table(errors)]
    return "\n".join(lines), [str(p) for p in folder.plots()]


def _open(spec: AppSpec, run_dir: Path | None, base_model: str) -> Any:
    from core.errors import RunError
    from core.loaded_run import open_base, open_run
    from core.pack import pack_class

    if run_dir is None:
        return open_base(spec.pack, base_model)
    loaded = open_run(run_dir)
    if loaded.pack.name != pack_class(spec.pack).name:
        raise RunError(f"{run_dir} is a '{loaded.pack.name}' run, not '{spec.pack}'")
    return loaded


def build_app(spec: AppSpec, run_dir: Path | None, base_model: str = "smollm2-135m") -> Any:
    import gradio as gr

    model = _open(spec, run_dir, base_model)
    status = (
        f"Fine-tuned adapter from `{run_dir}` vs base model `{model.base_model}` (on {model.device})."
        if model.tuned
        else f"**Base model only** (`{model.base_model}`): no fine-tuned adapter"
        + (f" in `{run_dir}`." if run_dir else "; start with `--run RUN_DIR` to compare.")
    )

    def run(text: str) -> tuple[str, str, str, str, Any]:
        text = check_length(text)
        model_input, extra = spec.preprocess(text) if spec.preprocess else (text, {})
        base = model.reply(model_input, tuned=False)
        outputs = [_panel("Base model", base, _render(spec, model, base, model_input))]
        if model.tuned:
            tuned = model.reply(model_input, tuned=True)
            outputs.append(_panel("Fine-tuned", tuned, _render(spec, model, tuned, model_input)))
        else:
            outputs.append("_No fine-tuned adapter loaded._")
        latency = f"base {base.seconds:.2f} s" + (f" · fine-tuned {tuned.seconds:.2f} s" if model.tuned else "")
        return outputs[0], outputs[1], latency, extra.get("scrubbed", ""), extra.get("highlights")

    with gr.Blocks(title=spec.title, analytics_enabled=False) as app:
        gr.Markdown(f"# {spec.title}\n{status}\n\n" + "\n".join(spec.notes))
        with gr.Tab("Try it"):
            extra_components = spec.extra_inputs() if spec.extra_inputs else []
            text = gr.Textbox(label=spec.input_label, lines=8, max_length=MAX_INPUT_CHARS, elem_id="vft-input")
            if extra_components and spec.combine_inputs:
                fill = gr.Button("Fill text from the form", elem_id="vft-fill")
                fill.click(spec.combine_inputs, inputs=extra_components, outputs=text)
            examples = [e for e in model.pack.demo_examples()]
            if examples:
                gr.Examples(examples=[[e] for e in examples], inputs=[text], label="Examples")
            submit = gr.Button("Compare", variant="primary", elem_id="vft-submit")
            highlights = gr.HighlightedText(label="Detected personal data", visible=spec.preprocess is not None)
            scrubbed = gr.Textbox(label="What the model sees (scrubbed)", visible=spec.preprocess is not None)
            latency = gr.Markdown(elem_id="vft-latency")
            with gr.Row():
                base_out = gr.Markdown(label="Base model", elem_id="vft-base")
                tuned_out = gr.Markdown(label="Fine-tuned", elem_id="vft-tuned")
            submit.click(
                run,
                inputs=text,
                outputs=[base_out, tuned_out, latency, scrubbed, highlights],
                concurrency_limit=1,
                api_name="compare",
            )
        with gr.Tab("Evidence"):
            md, plots = _evidence(run_dir)
            gr.Markdown(md)
            if plots:
                gr.Gallery(value=plots, label="Plots", columns=2)
    app.queue(default_concurrency_limit=1, max_size=32)
    return app


def _render(spec: AppSpec, model: Any, answer: Any, text: str) -> str:
    return spec.render(model, answer.parsed, text) if answer.parsed is not None else ""


def _panel(title: str, answer: Any, rendered: str) -> str:
    if answer.parsed is None:
        body = f"**Could not parse:** {answer.error}\n\n```\n{answer.raw[:2000]}\n```"
    else:
        body = rendered
    return f"### {title} ({answer.seconds:.2f} s)\n\n{body}"


def auth_from_env() -> tuple[str, str] | None:
    user, password = os.environ.get("VFT_DEMO_USER"), os.environ.get("VFT_DEMO_PASSWORD")
    return (user, password) if user and password else None


def launch(app: Any, port: int | None = None, **kwargs: Any) -> Any:
    return app.launch(server_name=HOST, server_port=port, share=False, auth=auth_from_env(), show_error=True, **kwargs)


def main(spec_factory: Callable[[], AppSpec]) -> None:
    ap = argparse.ArgumentParser(description="Base vs fine-tuned demo (binds 127.0.0.1).")
    ap.add_argument("--run", type=Path, default=None, help="Run folder with an adapter.")
    ap.add_argument("--base-model", default="smollm2-135m")
    ap.add_argument("--port", type=int, default=None)
    args = ap.parse_args()
    launch(build_app(spec_factory(), args.run, args.base_model), args.port)
