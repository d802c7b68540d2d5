"""E-commerce pack: HTML to text, Magento importer, user columns, style guide, copy metrics and the brand-voice
classifier, and a tiny end-to-end run that trains the classifier from base-model outputs."""

import json
from pathlib import Path

import pytest

from core.config import build_config
from core.errors import DataError, DataErrors
from core.pack import Example, get_pack
from core.pipeline import train_and_evaluate
from tests.conftest import write_jsonl
from verticals.ecommerce import copy_metrics
from verticals.ecommerce.html_text import html_to_text
from verticals.ecommerce.style import load_style

MAGENTO = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecommerce" / "magento"


@pytest.fixture
def pack():
    return get_pack("ecommerce")


def test_html_keeps_list_structure():
    text = html_to_text("<p>Warm &amp; light.</p><ul><li>Zip pocket.</li><li>L 29&quot;</li></ul><p>&bull; Wash.</p>")
    assert text.splitlines() == ["Warm & light.", "- Zip pocket.", '- L 29"', "- Wash."]


@pytest.mark.skipif(not MAGENTO.is_dir(), reason="../shared/data not present")
def test_magento_importer_folds_variants(pack):
    result = pack.load(MAGENTO)
    assert len(result.examples) == 191
    assert result.counts["magento_variant_rows_folded_into_parent"] + 147 + 44 == result.rows_read
    hoodie = next(e for e in result.examples if e.id == "MH01")
    assert hoodie.reference["attributes"]["sizes"] == ["XS", "S", "M", "L", "XL"]
    assert "<" not in hoodie.target and "- Drawstring-adjustable hood." in hoodie.target
    groups = {e.group for e in result.examples}
    assert len(groups) == 191 - result.counts["magento_products_sharing_a_description"]


def test_user_columns_and_errors_name_row_and_field(tmp_path):
    pack = get_pack("ecommerce", {"attribute_columns": "name,fabric", "description_column": "copy"})
    rows = [{"name": "Tee", "fabric": "Cotton", "copy": "A soft tee."}, {"name": "Cap", "copy": "A cap."}]
    with pytest.raises(DataErrors) as err:
        pack.load(write_jsonl(tmp_path / "p.jsonl", rows))
    assert "row 2" in str(err.value) and "fabric" in str(err.value)
    ok = pack.load(write_jsonl(tmp_path / "ok.jsonl", rows[:1]))
    assert ok.examples[0].text == "Name: Tee\nFabric: Cotton"


def test_style_guide_errors_name_the_field(tmp_path):
    bad = tmp_path / "style.yaml"
    bad.write_text("brand: X\nlength_words: [90, 10]\n")
    with pytest.raises(DataError, match="length_words"):
        load_style(bad)


def test_copy_metrics_on_hand_made_outputs(pack):
    attrs = {"name": "Aria Jacket", "material": "Nylon", "colors": ["Blue"], "price": "$84.00"}
    ref = {"description": "The Aria Jacket keeps rain out. Nylon shell.", "attributes": attrs}
    faithful = "Meet the Aria Jacket: a light nylon shell in blue that keeps the rain out on every run."
    invented = "The revolutionary Aria Jacket is made of red leather and weighs 2 pounds."
    scores = pack.metrics([faithful, invented, None], [ref, ref, ref])
    assert scores["hallucination_rate"] == pytest.approx(1 / 3)  # red, leather, 2: only the invented copy
    assert copy_metrics.unsupported_claims(invented, attrs, pack.lexicon) == [
        "colour:red",
        "material:leather",
        "number:2",
    ]
    assert scores["no_banned_words"] == pytest.approx(1 / 3)  # 'revolutionary' is banned; an empty output fails too
    assert copy_metrics.coverage(faithful, attrs) == 1.0
    assert scores["parse_rate"] == pytest.approx(2 / 3)


def _product(ex_id: str, attrs: dict) -> Example:
    return Example(id=ex_id, text="", target="copy", reference={"description": "copy", "attributes": attrs})


def test_another_makers_name_is_an_unsupported_claim(pack):
    makers = {"a": "Sony", "b": "Western Digital", "c": "Nine West"}
    pack.fit([_product(k, {"name": f"product {k}", "manufacturer": v}) for k, v in makers.items()])
    nokia = {"name": "Nokia 2610 Phone", "manufacturer": "Nokia", "model": "2610"}
    assert copy_metrics.unsupported_claims("Nokia 2610 Phone\nSony Smartphone Reviewer's Choice", nokia,
                                           pack.lexicon) == ["brand:sony"]  # fmt: skip
    assert copy_metrics.unsupported_claims("Backs up to a WESTERN DIGITAL drive.", nokia, pack.lexicon) == [
        "brand:western digital"
    ]
    # the common words some makers' names are, in lower case, name no maker
    assert (
        copy_metrics.unsupported_claims("Nine west-facing windows? No: nine west windows.", nokia, pack.lexicon) == []
    )
    sony = {"name": "Sony Ericsson W810i", "manufacturer": "Sony"}
    assert copy_metrics.unsupported_claims("The Sony W810i plays music.", sony, pack.lexicon) == []


def test_firsts_awards_and_patents_need_the_input_to_back_them():
    phone = {"name": "Nokia 2610 Phone", "manufacturer": "Nokia"}
    copy = "The Nokia 2610 is the first phone with it: a best-selling, award-winning, patented, clinically proven look."
    assert copy_metrics.unsupported_claims(copy, phone, {}) == [
        "claim:the first",
        "claim:best-selling",
        "claim:award-winning",
        "claim:patented",
        "claim:clinically proven",
    ]
    # "the first time", "at first", "only" alone claim nothing; a claim the attributes make is the product's own
    assert copy_metrics.unsupported_claims("At first, the first thing: only the Nokia 2610 Phone.", phone, {}) == []
    organic = {"name": "Orion Tee", "label": "Certified organic cotton"}
    assert copy_metrics.unsupported_claims("A certified organic tee.", organic, {}) == []
    assert copy_metrics.unsupported_claims("A certified organic tee.", phone, {}) == ["claim:certified"]


def test_digits_of_an_identifier_are_no_stated_number():
    bed = {"name": "Barcelona Bamboo Platform Bed", "model": "bar1234", "dimension": '62"W x 84"L'}
    copy = 'Bed bar1234: 1234 feet long legs, 62"W x 84"L, screen 1440x900.'
    assert copy_metrics.unsupported_claims(copy, bed, {}) == ["number:1234", "number:1440"]


def test_brand_voice_classifier_separates_styles():
    brand = [f"Built for the trail, the {w} pack moves with you. - Padded straps. - Zip pocket." for w in "abcdefghij"]
    base = [f"This product is a {w} bag. It is a good bag for many uses and it is available now." for w in "abcdefghij"]
    voice = copy_metrics.BrandVoice()
    voice.fit(brand, base)
    assert voice.accuracy is not None and voice.accuracy > 0.9
    assert voice.score(["Built for the trail, the new pack moves with you. - Padded straps."]) == 1.0
    assert voice.score(["This product is a bag. It is available now.", None]) == 0.0


def test_tiny_run_trains_voice_classifier_from_base_outputs(tiny_model, tmp_path):
    import random

    rng = random.Random(1)
    words = [
        "alpine",
        "harbor",
        "meadow",
        "canyon",
        "summit",
        "river",
        "forest",
        "desert",
        "glacier",
        "prairie",
        "island",
        "valley",
    ]
    feats = [
        "zip pocket",
        "hood",
        "drawstring",
        "mesh panel",
        "reflective trim",
        "thumb holes",
        "chest pocket",
        "side vents",
    ]
    rows = []
    for i in range(30):
        name = f"{rng.choice(words).title()} {rng.choice(words).title()} {['Tee', 'Jacket', 'Short'][i % 3]}"
        features = rng.sample(feats, 3)
        rows.append(
            {
                "id": f"p{i}",
                "attributes": {"name": name, "material": ["Cotton", "Polyester"][i % 2], "features": features},
                "description": f"The {name} has {', '.join(features)}. - {rng.choice(words)} ready.",
            }
        )
    cfg = build_config(
        overrides={
            "pack": "ecommerce",
            "data": str(write_jsonl(tmp_path / "p.jsonl", rows)),
            "base_model": str(tiny_model),
            "output_dir": str(tmp_path / "runs"),
            "max_steps": 2,
            "max_length": 512,
            "max_new_tokens": 16,
            "max_eval_examples": 4,
            "systems": ["zero_shot", "tuned"],
            "constrained": False,
            "pack_options": {"voice_negatives": 6},
        }
    )
    run_dir = train_and_evaluate("ecommerce", cfg, name="tiny")
    results = json.loads((run_dir / "results.json").read_text())
    assert results["metric_models"]["brand_voice_classifier"]["base_model"] > 0
    assert (run_dir / "predictions" / "base_on_train.jsonl").is_file()
    assert set(results["systems"]) == {"zero_shot", "tuned", "zero_shot+grounded", "tuned+grounded"}
    assert results["systems"]["tuned"]["brand_voice"] is not None
