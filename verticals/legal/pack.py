"""Legal pack: which kind of contract clause is this? JSON out: {"label": "<clause type>"}.

Reads CUAD's master_clauses.csv directly, or the user's own CSV/JSONL with text and label columns.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

from core.data import read_rows
from core.pack import LoadResult
from verticals.base import ClassificationPack
from verticals.legal.importers import is_cuad_master, load_cuad

DATA_DIR = Path(__file__).parent / "data"


class LegalPack(ClassificationPack):
    """Options beyond ClassificationPack's: cuad_categories, cuad_top_k, cuad_multi_category (drop|first|keep|multi),
    cuad_definitions (path to category_descriptions.csv)."""

    name = "legal"
    description = "Contract clause classification (CUAD categories or your own label set)"
    task_description = "You are a contracts analyst. Classify the contract clause by its type"
    default_synonyms: ClassVar[dict[str, str]] = {
        "choice of law": "Governing Law",
        "applicable law": "Governing Law",
        "liability cap": "Cap on Liability",
        "limitation of liability": "Cap on Liability",
        "assignment": "Anti-Assignment",
        "audit": "Audit Rights",
        "non-assignment": "Anti-Assignment",
        "license": "License Grant",
        "licence grant": "License Grant",
        "term": "Expiration Date",
        "noncompete": "Non-Compete",
    }

    def __init__(self, options: dict[str, Any] | None = None):
        options = dict(options or {})
        if options.get("cuad_multi_category") == "multi":
            options["multi_label"] = True
        super().__init__(options)
        self.options.setdefault("group_column", "contract")  # clauses of one contract never cross splits

    def sample_data_path(self) -> Path:
        return DATA_DIR / "cuad_sample.jsonl"

    def default_config(self) -> dict[str, Any]:
        return {
            "max_length": 512,
            "epochs": 1.0,
            "batch_size": 1,
            "grad_accum": 2,
            "learning_rate": 4e-4,
            "eval_steps": 25,
            "save_steps": 25,
            "max_eval_examples": 40,
            "lora": {"r": 16, "alpha": 32},
        }

    def load(self, path: Path, *, skip_invalid: bool = False) -> LoadResult:
        path = Path(path)
        if path.suffix.lower() == ".csv":
            first = next(read_rows(path), None)
            if first is not None and is_cuad_master(list(first[1])):
                return self._load_cuad(path)
        result = super().load(path, skip_invalid=skip_invalid)
        if not self.definitions and self.sample_data_path() == path:
            self.definitions = dict(_bundled_definitions())
        return result

    def _load_cuad(self, path: Path) -> LoadResult:
        result = load_cuad(
            path,
            categories=self.options.get("cuad_categories"),
            top_k=self.options.get("cuad_top_k", 10),
            multi_category=self.options.get("cuad_multi_category", "drop"),
        )
        result.examples = [dataclasses.replace(e, target=self.target(e.reference)) for e in result.examples]
        defs_path = self.options.get("cuad_definitions") or path.with_name("category_descriptions.csv")
        if not self.definitions and Path(defs_path).is_file():
            from verticals.legal.importers import category_definitions

            defs = category_definitions(defs_path)
            used = sorted({lab for e in result.examples for lab in self._reference_labels(e.reference)})
            self.definitions = {c: defs.get(c, "") for c in used}
        return result

    def demo_examples(self) -> list[str]:
        return [
            "This Agreement shall be governed by and construed in accordance with the laws of the State of New "
            "York, without regard to its conflict of laws principles.",
            "Neither party may assign this Agreement without the prior written consent of the other party.",
            "In no event shall either party's aggregate liability exceed the fees paid in the twelve months "
            "preceding the claim.",
        ]


def _bundled_definitions() -> dict[str, str]:
    import json

    return json.loads((DATA_DIR / "cuad_sample_labels.json").read_text(encoding="utf-8"))
