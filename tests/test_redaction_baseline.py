"""The Presidio-defaults baseline of the redaction benchmark: Presidio's results as they come, in this project's
labels, through the same scrub and scoring path as the project's own detector."""

from presidio_analyzer import RecognizerResult

from redaction import entities as E
from redaction.baseline import PresidioDefaultsDetector, presidio_spans
from redaction.evaluate import evaluate_documents
from redaction.spans import Span


def test_presidio_labels_are_mapped_and_unlabelled_entities_still_replaced():
    raw = [
        RecognizerResult("EMAIL_ADDRESS", 10, 25, 1.0),
        RecognizerResult("URL", 14, 25, 0.5),  # inside the e-mail: merged into it, the stronger label kept
        RecognizerResult("NRP", 30, 37, 0.85),  # Presidio's anonymizer would replace it too
    ]
    assert presidio_spans(raw) == [Span(10, 25, E.EMAIL, 1.0), Span(30, 37, E.ID, 0.85)]


def test_baseline_runs_through_the_scrub_and_scoring_path():
    text = "Contact jane.doe@example.com or call 212-555-0199 about the invoice."
    start = text.index("jane")
    gold = [Span(start, start + len("jane.doe@example.com"), E.EMAIL)]
    detector = PresidioDefaultsDetector()
    assert [s.label for s in detector.detect(text)] == [s.label for s in next(iter(detector.detect_many([text])))]
    result = evaluate_documents([(text, gold)], detector=detector)
    assert result["detector"] == "presidio_defaults"
    assert result["token_recall"]["direct_identifiers"]["recall"] == 1.0
    assert result["leak"]["direct_identifiers"]["rate"] == 0.0


def test_redact_eval_scores_the_baseline_on_a_users_gold_file(tmp_path):
    """In process (typer's runner), so the analyzer built above is reused rather than loaded again."""
    import json

    from typer.testing import CliRunner

    from core.cli import app

    text = "Mail jane.doe@example.com today."
    start = text.index("jane")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"text": text, "spans": [{"start": start, "end": start + 20, "label": "EMAIL"}]}) + "\n")
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(app, ["redact-eval", str(gold), "--detector", "presidio_defaults", "--json", str(out)])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    assert scores["detector"] == "presidio_defaults" and scores["token_recall"]["direct_identifiers"]["recall"] == 1.0
