"""The `vft` command: the composition root, where core's machinery, the scrubber (redaction/) and the demos
(demos/) are wired together. It is the one module of core/ that imports redaction/ and demos/, always lazily inside
a command, so importing core never imports them; tests/test_layering.py holds every other module to that."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.errors import VftError

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

app = typer.Typer(
    help="Fine-tune a small open model on your domain data with vertical packs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
models_app = typer.Typer(help="Base models: list aliases, provision the offline default.", no_args_is_help=False)
config_app = typer.Typer(help="Run configuration.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(config_app, name="config")
console = Console()
err_console = Console(stderr=True)


def _quiet_libraries() -> None:
    import logging
    import warnings

    for name in ("transformers", "peft", "trl", "datasets", "accelerate"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
    except ImportError:
        pass


def _options(pairs: list[str] | None) -> dict[str, Any]:
    from core.config import parse_overrides

    return parse_overrides(pairs or [])


@app.command()
def packs(
    options: Annotated[str | None, typer.Option("--options", help="List the options of this pack.")] = None,
) -> None:
    """List installed packs, or one pack's options (`vft packs --options legal`)."""
    from core.pack import available_packs, options_table, pack_class

    if options:
        cls = pack_class(options)
        table = Table("option", "type", "default", "description", title=f"{options} pack options (-O key=value)")
        for row in options_table(cls):
            table.add_row(row["option"], row["type"], row["default"], row["description"])
        console.print(table)
        return
    table = Table("pack", "task", "headline metric", "redaction", "description")
    for name in available_packs():
        cls = pack_class(name)
        table.add_row(
            name, cls.kind.value, cls.headline_metric, ", ".join(cls.redaction_fields) or "-", cls.description
        )
    console.print(table)


@app.command()
def systems(
    pack: Annotated[str | None, typer.Argument(help="Also list the systems this pack adds.")] = None,
) -> None:
    """List the systems evaluation can compare (`--set 'systems=[...]'`)."""
    from core.pack import get_pack
    from core.systems import get_system, registered

    pack_obj = get_pack(pack) if pack else None
    names = [*registered(), *(pack_obj.systems() if pack_obj else {})]
    table = Table("system", "what it is")
    for name in dict.fromkeys(names):
        described = get_system(name, pack_obj).describe()
        table.add_row(name, ", ".join(f"{k}: {v}" for k, v in described.items()))
    console.print(table)


DataFile = Annotated[Path | None, typer.Option(help="Training file (JSONL, CSV, Parquet, chat JSONL).")]
ConfigFile = Annotated[Path | None, typer.Option("--config", "-c", help="YAML run config.")]
SetOption = Annotated[list[str] | None, typer.Option("--set", help="Config override key=value (repeatable).")]
PackOption = Annotated[list[str] | None, typer.Option("--option", "-O", help="Pack option key=value.")]
TextColumn = Annotated[str | None, typer.Option(help="Column with the input text.")]
LabelColumn = Annotated[str | None, typer.Option(help="Column with the label / target.")]
LabelsFile = Annotated[Path | None, typer.Option(help="Label set with optional definitions.")]
BaseModel = Annotated[str | None, typer.Option(help="Alias, local folder or hub id.")]
OutputDir = Annotated[str | None, typer.Option(help="Where run folders go (default runs/).")]
RunName = Annotated[str | None, typer.Option(help="Run folder name (default <pack>-<timestamp>).")]
SkipInvalid = Annotated[bool, typer.Option(help="Skip (and count) bad rows instead of stopping.")]
AllowUnredacted = Annotated[
    bool, typer.Option("--allow-unredacted", help="Train a PII pack on unscrubbed data (recorded in the report).")
]


def _run_setup(
    pack: str,
    *,
    data: Path | None,
    config: Path | None,
    set_: list[str] | None,
    option: list[str] | None,
    columns: dict[str, str | None],
    flags: dict[str, Any],
) -> tuple[Any, Any]:
    """Pack options and config from the command line (pack defaults < --config < --set), and the scrubber when the
    pack needs one. Shared by `vft train` and `vft assess`, so both prepare data the same way."""
    from core.config import build_config, merge_overrides
    from core.pack import get_pack

    if not pack:
        raise VftError("name a pack (see `vft packs`)")
    pack_options = _options(option)
    pack_options.update({k: v for k, v in columns.items() if v is not None})
    overrides = merge_overrides(
        _options(set_),
        {"pack": pack, "pack_options": pack_options},
        {"data": str(data)} if data else {},
        {k: v for k, v in flags.items() if v is not None},
    )
    pack_obj = get_pack(pack, pack_options)
    cfg = build_config(pack_defaults=pack_obj.default_config(), yaml_path=config, overrides=overrides)
    scrubber = None
    if pack_obj.needs_redaction and not cfg.privacy.allow_unredacted:
        from redaction.scrub import PresidioScrubber

        scrubber = PresidioScrubber.from_config(cfg.privacy)
    return cfg, scrubber


def _columns(text_column: str | None, label_column: str | None, labels_file: Path | None) -> dict[str, Any]:
    """The column shortcuts of `train` and `assess` as pack options."""
    return {
        "text_column": text_column,
        "label_column": label_column,
        "labels_file": str(labels_file) if labels_file else None,
    }


@app.command()
def train(
    pack: Annotated[str, typer.Argument(help="Pack name (see `vft packs`).")] = "",
    data: DataFile = None,
    config: ConfigFile = None,
    set_: SetOption = None,
    option: PackOption = None,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    labels_file: LabelsFile = None,
    base_model: BaseModel = None,
    epochs: Annotated[float | None, typer.Option(help="Training epochs.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after N optimizer steps.")] = None,
    output_dir: OutputDir = None,
    name: RunName = None,
    resume: Annotated[Path | None, typer.Option(help="Resume a killed run from its last checkpoint.")] = None,
    skip_invalid: SkipInvalid = False,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="Train only; run `vft eval` later.")] = False,
    allow_unredacted: AllowUnredacted = False,
) -> None:
    """Fine-tune a LoRA adapter, then compare it on held-out data with the base model prompted, a classical
    model and the nearest training example; the report says which to ship."""
    _quiet_libraries()
    from core.pipeline import train_and_evaluate

    if resume is not None:
        run_dir = train_and_evaluate("", None, resume_dir=resume, evaluate=not no_eval)  # type: ignore[arg-type]
        _print_results(run_dir)
        return
    if not pack:
        raise VftError("name a pack: vft train PACK (see `vft packs`)")
    cfg, scrubber = _run_setup(
        pack,
        data=data,
        config=config,
        set_=set_,
        option=option,
        columns=_columns(text_column, label_column, labels_file),
        flags={"base_model": base_model, "epochs": epochs, "max_steps": max_steps, "output_dir": output_dir,
               "allow_unredacted": True if allow_unredacted else None},
    )  # fmt: skip
    run_dir = train_and_evaluate(
        pack, cfg, name=name, evaluate=not no_eval, skip_invalid=skip_invalid, scrubber=scrubber
    )
    _print_results(run_dir)


@app.command()
def assess(
    pack: Annotated[str, typer.Argument(help="Pack name (see `vft packs`).")],
    data: DataFile = None,
    target: Annotated[float, typer.Option(help="Headline score the use case needs (e.g. 0.9 macro-F1).")] = 0.9,
    config: ConfigFile = None,
    set_: SetOption = None,
    option: PackOption = None,
    text_column: TextColumn = None,
    label_column: LabelColumn = None,
    labels_file: LabelsFile = None,
    base_model: BaseModel = None,
    output_dir: OutputDir = None,
    name: RunName = None,
    skip_invalid: SkipInvalid = False,
    allow_unredacted: AllowUnredacted = False,
) -> None:
    """Before training: is fine-tuning worth it? Scores zero-shot, few-shot, classical and nearest on the held-out
    split (prepared exactly as `vft train` would) and estimates the training time from a short measured probe."""
    _quiet_libraries()
    from core.assess import assess as run_assess

    cfg, scrubber = _run_setup(
        pack,
        data=data,
        config=config,
        set_=set_,
        option=option,
        columns=_columns(text_column, label_column, labels_file),
        flags={"base_model": base_model, "output_dir": output_dir,
               "allow_unredacted": True if allow_unredacted else None},
    )  # fmt: skip
    run_dir = run_assess(pack, cfg, name=name, target=target, skip_invalid=skip_invalid, scrubber=scrubber)
    _print_results(run_dir)


def _print_results(run_dir: Path) -> None:
    from core.run_folder import RunFolder

    folder = RunFolder(run_dir)
    results = folder.read_results()
    if not results.systems and results.training is None:
        return
    table = Table("system", results.headline_metric or "headline", "parse rate", title=f"{run_dir}")
    for name, scores in results.systems.items():
        head, rate = scores.headline, scores.parse_rate
        table.add_row(name, f"{head:.3f}" if head is not None else "-", f"{rate:.2f}" if rate is not None else "-")
    console.print(table)
    tr = results.training
    if tr is not None:
        console.print(
            f"training: {tr.global_step} steps in {tr.train_runtime_s} s, {tr.tokens_per_second} tokens/s "
            f"({tr.precision})"
        )
    if results.assessment:
        console.print(f"[bold]{results.assessment['sentence']}[/]")
    elif results.verdict and results.verdict.get("sentence"):
        console.print(f"[bold]verdict:[/] {results.verdict['sentence']}")
    console.print(f"report: {folder.report_html_path}")


@app.command("eval")
def eval_(
    run_dir: Annotated[Path, typer.Argument(help="Run folder.")],
    systems: Annotated[str | None, typer.Option(help="Comma-separated systems (default: all).")] = None,
    max_examples: Annotated[int | None, typer.Option(help="Cap held-out examples.")] = None,
) -> None:
    """Evaluate a run's systems on its held-out split and rewrite the report."""
    _quiet_libraries()
    from core.evaluation import evaluate_run
    from core.report import write_report

    evaluate_run(run_dir, systems=systems.split(",") if systems else None, max_examples=max_examples)
    write_report(run_dir)
    _print_results(run_dir)


@app.command()
def report(run_dir: Annotated[Path, typer.Argument(help="Run folder.")]) -> None:
    """Rewrite report.md and report.html from a run's results."""
    from core.report import write_report

    md, page = write_report(run_dir)
    console.print(f"{md}\n{page}")


@app.command()
def inspect(
    pack: Annotated[str, typer.Argument(help="Pack name.")],
    data: Annotated[Path | None, typer.Option(help="File to inspect (default: the pack's sample).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-O", help="Pack option key=value.")] = None,
    base_model: Annotated[str, typer.Option(help="Tokenizer of this model.")] = "smollm2-135m",
    max_length: Annotated[int, typer.Option(help="max_length used for training.")] = 1024,
    index: Annotated[int, typer.Option(help="Which example to show.")] = 0,
) -> None:
    """Show one formatted example with the trained tokens marked, and token-length statistics."""
    _quiet_libraries()
    from core.inspect import inspect_data

    inspect_data(pack, data, _options(option), base_model, max_length, index, console)


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="Run folder with an adapter.")],
    data: Annotated[Path, typer.Option(help="Input file (same columns as training; labels optional).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output JSONL.")],
    batch_size: Annotated[int, typer.Option(help="Prompts per batch.")] = 16,
    constrained: Annotated[bool, typer.Option(help="Constrain to valid outputs where possible.")] = False,
) -> None:
    """Run the fine-tuned model on new data; parse failures are kept and counted."""
    _quiet_libraries()
    from core.predict import predict_file

    summary = predict_file(run_dir, data, out, batch_size=batch_size, constrained=constrained)
    console.print(json.dumps(summary, indent=2))


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="Run folder with an adapter.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Output folder.")],
    merge: Annotated[bool, typer.Option(help="Merge the adapter into the base weights.")] = False,
) -> None:
    """Write the adapter (or a merged model) to a folder, with serving instructions."""
    _quiet_libraries()
    from core.export import export_run

    console.print(export_run(run_dir, out, merge=merge))


@app.command()
def redact(
    input_file: Annotated[Path, typer.Argument(metavar="IN", help="JSONL or CSV file.")],
    fields: Annotated[str, typer.Option(help="Comma-separated text fields to scrub.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output (default IN.scrubbed.EXT).")] = None,
    operator: Annotated[str, typer.Option(help="surrogate | tag | instance | mask | hash")] = "surrogate",
    detector: Annotated[str, typer.Option(help="spacy (NER + patterns) | regex (patterns only)")] = "spacy",
    threshold: Annotated[float, typer.Option(help="Minimum detection score.")] = 0.4,
    recall_mode: Annotated[
        str, typer.Option(help="default | high_recall (also every uncommon capitalised word and 5+ digit number)")
    ] = "default",
    workers: Annotated[int, typer.Option(help="Processes (default: every core; 1 = this process only).")] = 0,
) -> None:
    """Scrub PII offline (Presidio + clinical and international recognizers); writes OUT and an audit (counts
    only)."""
    from redaction.operators import OPERATORS
    from redaction.scrub import scrub_file

    if operator not in OPERATORS:
        raise VftError(f"unknown operator '{operator}' (one of {', '.join(OPERATORS)})")
    if detector not in ("spacy", "regex"):
        raise VftError(f"unknown detector '{detector}' (spacy or regex)")
    from redaction.engine import RECALL_MODES

    if recall_mode not in RECALL_MODES:
        raise VftError(f"unknown recall mode '{recall_mode}' (one of {', '.join(RECALL_MODES)})")
    names = [f.strip() for f in fields.split(",") if f.strip()]
    out_path, audit_path, audit = scrub_file(
        input_file,
        out,
        names,
        operator=operator,  # type: ignore[arg-type]
        mode=detector,
        threshold=threshold,
        workers=workers or os.cpu_count() or 1,
        recall_mode=recall_mode,  # type: ignore[arg-type]
    )  # type: ignore[arg-type]
    console.print(f"{audit['rows']} rows, {audit['rows_changed']} changed; entities: {audit['entities_total']}")
    console.print(f"output: {out_path}\naudit:  {audit_path}")


@app.command("redact-eval")
def redact_eval(
    gold: Annotated[Path, typer.Argument(help="Gold spans: {text, spans:[{start,end,label}]} or presidio-research.")],
    detector: Annotated[
        str, typer.Option(help="spacy | regex | presidio_defaults (Presidio as it comes, to compare with)")
    ] = "spacy",
    recall_mode: Annotated[str, typer.Option(help="default | high_recall")] = "default",
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the scores here.")] = None,
) -> None:
    """Run the real scrub path on gold data: span precision / recall / F2, token-level recall (identifier words
    replaced) and the verbatim leak rate (identifier values still in the output), per entity type."""
    from core.io import write_json
    from redaction.evaluate import evaluate_file

    if detector == "presidio_defaults":
        from redaction.baseline import PresidioDefaultsDetector

        result = evaluate_file(gold, detector=PresidioDefaultsDetector())
    else:
        result = evaluate_file(gold, mode=detector, recall_mode=recall_mode)
    tokens, leak = result["token_recall"], result["leak"]
    table = Table(
        "entity", "support", "detected", "precision", "recall", "F2", "token recall", "leak rate",
        title=f"{gold.name} ({detector}, {recall_mode})",
    )  # fmt: skip
    for name, b in [
        *result["per_entity"].items(),
        ("direct identifiers", result["direct_identifiers"]),
        ("overall", result["overall"]),
    ]:
        t = tokens.get(name, {}).get("recall")
        lk = leak.get(name, {}).get("rate")
        table.add_row(
            name, str(b["support"]), str(b["detected"]), f"{b['precision']:.3f}", f"{b['recall']:.3f}",
            f"{b['f2']:.3f}", "-" if t is None else f"{t:.3f}", "-" if lk is None else f"{lk:.3f}",
        )  # fmt: skip
    console.print(table)
    if json_out:
        write_json(json_out, result)


@app.command()
def demo(
    pack: Annotated[str, typer.Argument(help="Pack name.")],
    run: Annotated[Path | None, typer.Option(help="Run folder with an adapter (default: base model only).")] = None,
    base_model: Annotated[str, typer.Option(help="Base model when no run folder is given.")] = "smollm2-135m",
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (default: Gradio's).")] = None,
) -> None:
    """Stakeholder demo: base vs fine-tuned side by side, with the run's evidence (Gradio on 127.0.0.1)."""
    _quiet_libraries()
    from demos.builder import build_app, launch
    from demos.registry import spec_for

    if run is not None and not run.is_dir():
        raise VftError(f"run folder not found: {run}")
    launch(build_app(spec_for(pack), run, base_model), port)


@app.command()
def serve(
    run_dir: Annotated[Path, typer.Argument(help="Run folder with an adapter.")],
    host: Annotated[str, typer.Option(help="Interface to bind (default: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    token_file: Annotated[
        Path | None, typer.Option(help="File holding a bearer token clients must send (or env VFT_SERVE_TOKEN).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Most requests answered by one model call.")] = 8,
    max_queue: Annotated[int, typer.Option(help="Requests waiting before new ones get 503.")] = 64,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes (413 above).")] = 64 * 1024,
) -> None:
    """Serve a run: OpenAI-compatible /v1/chat/completions and /v1/models, /v1/predict with the pack's parsed output,
    /health; batching, a bounded queue, optional bearer token; logs never hold request text."""
    _quiet_libraries()
    from core.loaded_run import open_run
    from core.serve import create_app
    from core.serve import serve as run_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(f"[yellow]warning:[/] binding {host}: reachable from other machines")
    token = os.environ.get("VFT_SERVE_TOKEN")
    if token_file is not None:
        if not token_file.is_file():
            raise VftError(f"token file not found: {token_file}")
        token = token_file.read_text(encoding="utf-8").strip()
    loaded = open_run(run_dir, require_adapter=True)
    scrub = None
    if loaded.pack.needs_redaction:
        from redaction.engine import Detector
        from redaction.operators import Replacer

        p = loaded.config.privacy
        detector = Detector(p.detector, p.threshold, recall_mode=p.recall_mode)
        replacer = Replacer(p.operator)

        def scrub(text: str) -> str:
            spans = detector.detect(text)
            return replacer.replace(text, spans) if spans else text

    app = create_app(loaded, token=token, max_body=max_body, max_queue=max_queue, batch_size=batch_size, scrub=scrub)
    console.print(f"serving {run_dir} on http://{host}:{port} (system for /v1/predict: {app.state.system})")
    run_server(app, host, port)


@app.command()
def monitor(
    run_dir: Annotated[Path, typer.Argument(help="Run folder of the deployed model.")],
    data: Annotated[Path, typer.Option(help="Newly labelled rows (same columns as training).")],
    system: Annotated[str | None, typer.Option(help="System to score (default: the run's best fine-tuned).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the report here.")] = None,
) -> None:
    """Has quality dropped on new data? Exit code 1 on a significant drop (for cron/CI)."""
    _quiet_libraries()
    from core.io import write_json
    from core.monitor import monitor as run_monitor

    report = run_monitor(run_dir, data, system=system)
    console.print(json.dumps(report, indent=2))
    console.print(f"[bold]{report['verdict']}[/]")
    if json_out:
        write_json(json_out, report)
    if report["significant_drop"]:
        raise typer.Exit(1)


@models_app.callback(invoke_without_command=True)
def models_list(ctx: typer.Context) -> None:
    """List base-model aliases and what is cached."""
    if ctx.invoked_subcommand is not None:
        return
    from core.models import list_models

    table = Table("alias", "cached", "licence", "description", "cache folder")
    for row in list_models():
        table.add_row(
            row["alias"], "yes" if row["cached"] else "no", row["licence"], row["description"], row["cache_dir"]
        )
    console.print(table)


@models_app.command("provision")
def models_provision(alias: Annotated[str, typer.Argument(help="Alias to convert.")] = "smollm2-135m") -> None:
    """Convert an alias into the local cache (offline, once)."""
    _quiet_libraries()
    from core.models import provision

    console.print(f"{alias}: {provision(alias)}")


@config_app.command("schema")
def config_schema_cmd() -> None:
    """Print the JSON schema of the run config."""
    from core.config import config_schema

    print(config_schema())


@config_app.command("show")
def config_show(
    pack: Annotated[str, typer.Argument(help="Pack name.")],
    config: Annotated[Path | None, typer.Option("--config", "-c")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-O", help="Pack option key=value.")] = None,
) -> None:
    """Print the effective config for a pack (pack defaults < YAML < --set); pack options are checked too."""
    from core.config import build_config, dump_config, merge_overrides
    from core.pack import get_pack

    pack_obj = get_pack(pack, _options(option))
    overrides = merge_overrides(_options(set_), {"pack": pack, "pack_options": _options(option)})
    print(
        dump_config(build_config(pack_defaults=pack_obj.default_config(), yaml_path=config, overrides=overrides)),
        end="",
    )


@app.command()
def schema(
    what: Annotated[str, typer.Argument(help="config (the run config) or results (results.json).")] = "results",
) -> None:
    """Print a JSON schema: of the run config, or of a run folder's results.json."""
    from core.config import config_schema
    from core.results import results_json_schema

    if what == "config":
        print(config_schema())
    elif what == "results":
        print(json.dumps(results_json_schema(), indent=2))
    else:
        raise VftError(f"unknown schema '{what}' (config or results)")


def main() -> None:
    try:
        app()
    except VftError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
