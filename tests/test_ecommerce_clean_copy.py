"""Training copy cleaned of unsupported claims and repeated lines (-O training_copy=supported): what is removed,
what is kept, that every change is counted, and that only the training views change."""

from core.pack import Example, get_pack
from tests.conftest import write_jsonl
from verticals.ecommerce.clean_copy import clean_copy, cleaned_examples

LEXICON = {"colour": {"black", "red", "blue"}, "material": {"cotton", "wool", "nylon"}}
ATTRS = {"name": "Trail Tee", "material": "Cotton", "colors": ["Black"], "price": "$20.00"}


def test_sentences_with_unsupported_claims_go_and_the_rest_keeps_its_form():
    copy = (
        "A soft cotton tee for the trail. Its wool lining keeps you warm.\n"
        "- Black crew neck.\n- Red piping.\n- Machine wash.\n- 2 pockets.\n\nOnly $20."
    )
    cleaned = clean_copy(copy, ATTRS, LEXICON)
    assert cleaned.copy == "A soft cotton tee for the trail.\n- Black crew neck.\n- Machine wash.\n\nOnly $20."
    assert cleaned.sentences_with_unsupported_claims == 3  # wool, red, the number 2
    assert cleaned.repeated_sentences == 0 and cleaned.changed


def test_repeated_lines_go_but_the_first_stays():
    cleaned = clean_copy("- Machine wash/dry.\n- Soft cotton.\n- Machine wash/dry.\n- Machine wash.", ATTRS, LEXICON)
    assert cleaned.copy == "- Machine wash/dry.\n- Soft cotton."
    assert cleaned.repeated_sentences == 2


def test_clean_copy_is_left_alone():
    copy = "A soft cotton tee.\n- Black crew neck."
    cleaned = clean_copy(copy, ATTRS, LEXICON)
    assert cleaned.copy == copy and not cleaned.changed


def test_every_change_is_counted_and_examples_without_copy_left_are_listed():
    examples = [
        Example(id="a", text="x", target="A red wool tee.", reference={"attributes": ATTRS}),
        Example(id="b", text="x", target="A cotton tee. In blue.", reference={"attributes": ATTRS}),
        Example(id="c", text="x", target="A cotton tee.", reference={"attributes": ATTRS}),
    ]
    kept, counts = cleaned_examples(examples, LEXICON)
    assert [e.id for e in kept] == ["b", "c"] and kept[0].target == "A cotton tee."
    assert counts.summary() == {
        "examples": 3, "examples_changed": 2, "sentences_removed_unsupported_claim": 2,
        "sentences_removed_repeated": 0, "examples_left_out_no_copy_left": 1, "left_out_ids": ["a"],
    }  # fmt: skip


def test_only_the_training_views_change_and_the_data_report_says_so(tmp_path):
    rows = [{"name": f"Tee {i}", "material": "Cotton", "description": "A cotton tee. Lined with wool."}
            for i in range(4)]  # fmt: skip
    as_written = get_pack("ecommerce", {"attribute_columns": "name,material"})
    supported = get_pack("ecommerce", {"attribute_columns": "name,material", "training_copy": "supported"})
    for pack in (as_written, supported):
        pack.fit(pack.load(write_jsonl(tmp_path / "p.jsonl", rows)).examples)
    examples = supported.load(write_jsonl(tmp_path / "p.jsonl", rows)).examples
    assert [e.target for e in as_written.training_views(examples)] == [e.target for e in examples]
    assert {e.target for e in supported.training_views(examples)} == {"A cotton tee."}
    assert {e.target for e in examples} == {"A cotton tee. Lined with wool."}  # scoring keeps the copy as written
    report = supported.data_summary({"train": examples, "dev": []})
    assert report["training_copy"] == "supported"
    assert report["training_copy_cleaned_train"]["sentences_removed_unsupported_claim"] == 4
    assert "training_copy_cleaned_train" not in as_written.data_summary({"train": examples})


def test_first_repeated_line_cuts_before_the_repeat_and_its_bullet():
    from verticals.ecommerce.copy_metrics import first_repeated_line, repeats_a_line

    copy = "Warm hoodie. Soft.\n- Black hoodie.\n- Machine wash/dry.\n- Machine wash."
    assert copy[: first_repeated_line(copy)] == "Warm hoodie. Soft.\n- Black hoodie.\n- Machine wash/dry.\n"
    prose = "A soft hoodie for cool days. A soft hoodie for cool days. More."
    assert prose[: first_repeated_line(prose)] == "A soft hoodie for cool days. "
    assert first_repeated_line("A soft tee.\n- Black.\n- Machine wash.") is None
    assert repeats_a_line(copy) and not repeats_a_line("A soft tee.\n- Black.")
