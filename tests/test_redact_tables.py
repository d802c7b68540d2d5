"""The README's per-entity redaction tables are printed from a saved result file (no new look at held-out data)."""

from __future__ import annotations

from bench.redact_recall import per_entity_markdown


def _run(person: float, leaked: int) -> dict:
    return {
        "token_recall": {
            "PERSON": {"tokens": 10, "removed": int(10 * person), "recall": person},
            "LOCATION": {"tokens": 4, "removed": 1, "recall": 0.25},
            "direct_identifiers": {"tokens": 10, "removed": int(10 * person), "recall": person},
        },
        "leak": {
            "PERSON": {"values": 5, "leaked": leaked, "rate": leaked / 5},
            "direct_identifiers": {"values": 5, "leaked": leaked, "rate": leaked / 5},
            "examples": [],
        },
    }


def test_each_set_gets_one_table_with_both_modes_and_the_total_last():
    runs = {"notes/default": _run(0.8, 1), "notes/high_recall": _run(1.0, 0), "aci_bench_names/default": {}}
    text = per_entity_markdown(runs)
    assert text.count("Per entity") == 1  # the ACI-Bench name check is no per-entity set
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[0] == "| entity | tokens | default | high-recall |"
    assert lines[1] == "| PERSON | 10 | 0.800 (20.0%, 1/5) | 1.000 (0.0%, 0/5) |"
    assert lines[2].startswith("| LOCATION (not a direct identifier: outside the total) | 4 | 0.250 |")
    assert lines[-1] == "| **all direct identifiers** | 10 | 0.800 (20.0%, 1/5) | 1.000 (0.0%, 0/5) |"


def test_a_set_scored_in_one_mode_only_gets_one_column():
    text = per_entity_markdown({"notes/high_recall": _run(0.9, 0)})
    assert "| entity | tokens | high-recall |" in text
