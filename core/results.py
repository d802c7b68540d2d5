"""The written-down schema of results.json: what a run's evaluation and training leave for the report, the demos,
`vft monitor` and benchmarks to read. Only `RunFolder.update_results` writes the file, and it validates against
these models, so a reader can rely on the keys below.

`vft schema results` prints the JSON schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

RESULTS_SCHEMA_VERSION = 1


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemScores(BaseModel):
    """One system's scores on the held-out examples. The common fields are named here; the pack's own metrics
    (macro_f1, per_class, per_field, rouge1, ...) sit beside them under the names the pack gives them."""

    model_config = ConfigDict(extra="allow")

    system: dict[str, Any] = Field(default_factory=dict, description="What the system is (System.describe()).")
    headline: float | None = Field(None, description="The pack's headline metric (results.headline_metric).")
    parse_rate: float | None = Field(None, description="Share of outputs that parsed into the pack's schema.")
    examples_per_second: float | None = None
    generated_tokens: int | None = None
    interval: dict[str, float] | None = Field(
        None, description="Headline estimate with its 95% paired-bootstrap interval: {estimate, low, high}."
    )
    cost: dict[str, Any] | None = Field(
        None,
        description="examples_per_second, latency_p50_s / latency_p95_s (what one caller waits), peak_rss_mb of the "
        "process while the system ran, seconds; training_seconds for fine-tuned systems; reused_seconds: the "
        "part of seconds spent earlier by another system whose work this one reused (a constrained twin resuming "
        "its free twin's answers), counted so that no system looks cheaper for running later.",
    )


class TrainingSummary(_Closed):
    adapter_dir: str
    train_runtime_s: float
    global_step: int
    train_tokens: dict[str, Any]
    dev_tokens: dict[str, Any]
    tokens_per_second: float
    supervised_tokens_per_second: float
    final_train_loss: float | None = None
    best_eval_loss: float | None = None
    resumed_from: str | None = None
    best_checkpoint: str | None = None
    best_metric: dict[str, Any] | None = None
    time_budget: dict[str, Any] | None = Field(
        None, description="How training.max_minutes was met: measured step time, planned and fitted steps."
    )
    shared_prefix: dict[str, Any] | None = Field(
        None, description="The prompt prefix computed once per packed row: its tokens, rows and tokens saved."
    )
    precision: str
    quantization: str
    world_size: int = 1


class RunResults(_Closed):
    schema_version: int = RESULTS_SCHEMA_VERSION
    pack: str | None = None
    headline_metric: str | None = None
    base_model: str | None = None
    test_examples: int | None = Field(None, description="Held-out examples scored.")
    evaluated_at: str | None = None
    machine: dict[str, Any] | None = None
    training: TrainingSummary | None = None
    data: dict[str, Any] | None = Field(None, description="The data report (data_report.json) of the run.")
    metric_models: dict[str, Any] | None = Field(
        None, description="Facts about metrics the pack fitted (e.g. the brand-voice classifier's accuracy)."
    )
    evaluation: dict[str, Any] | None = Field(
        None, description="How the scored examples were chosen and which systems were left out (and why)."
    )
    systems: dict[str, SystemScores] = Field(default_factory=dict)
    verdict: dict[str, Any] | None = Field(
        None, description="Which system to ship and whether fine-tuning was worth it (core.verdict: rule, sentence)."
    )
    assessment: dict[str, Any] | None = Field(
        None, description="`vft assess` only: fine-tuning worth trying / not needed, with the training-time estimate."
    )
    warnings: list[str] = Field(default_factory=list, description="What the reader must know before trusting it.")

    def best(self, names: list[str]) -> str | None:
        """The first of `names` that was scored."""
        return next((n for n in names if n in self.systems), None)


def results_json_schema() -> dict[str, Any]:
    return RunResults.model_json_schema()
