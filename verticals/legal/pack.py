"""Legal pack: which kind of contract clause is this? JSON out: {"label": "<clause type>"}.

Reads CUAD's master_clauses.csv directly, or the user's own CSV/JSONL with text and label columns.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from core.data import read_rows
from core.pack import LoadResult
from verticals.base import ClassificationOptions, ClassificationPack
from verticals.legal.importers import is_cuad_master, load_cuad

DATA_DIR = Path(__file__).parent / "data"


class LegalOptions(ClassificationOptions):
    group_column: str | None = Field("contract", description="Clauses of one contract never cross splits.")
    cuad_categories: list[str] | None = Field(
        None, description="CUAD master_clauses.csv: these categories only (list or comma-separated)."
    )
    cuad_top_k: int = Field(10, ge=1, description="CUAD: the k most frequent categories (when no list is given).")
    cuad_multi_category: Literal["drop", "first", "keep", "multi"] = Field(
        "drop", description="CUAD: a clause text carrying several categories (always counted); multi = multi-label."
    )
    cuad_definitions: str | None = Field(
        None, description="CUAD: category_descriptions.csv (default: the file beside master_clauses.csv)."
    )

    @field_validator("cuad_categories", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return [c.strip() for c in v.split(",") if c.strip()] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _multi(self) -> LegalOptions:
        if self.cuad_multi_category == "multi" and not self.multi_label:
            self.multi_label = True
        return self


class LegalPack(ClassificationPack):
    """Contract clauses: CUAD's categories or the user's own label set."""

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

    Options = LegalOptions

    def sample_data_path(self) -> Path:
        return DATA_DIR / "cuad_sample.jsonl"

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
            categories=self.options.cuad_categories,
            top_k=self.options.cuad_top_k,
            multi_category=self.options.cuad_multi_category,
        )
        result.examples = [dataclasses.replace(e, target=self.target(e.reference)) for e in result.examples]
        defs_path = self.options.cuad_definitions or path.with_name("category_descriptions.csv")
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
