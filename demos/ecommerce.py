"""E-commerce demo: describe a product (form or 'Key: value' lines) and read the copy both models write, with the
shop's style checks marked.

python demos/ecommerce.py --run runs/ecommerce-...   (or: vft demo ecommerce --run ...)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.builder import AppSpec, main

FIELDS = ("Name", "Category", "Price", "Material", "Colors", "Features")


def form() -> list[Any]:
    import gradio as gr

    with gr.Row():
        boxes = [gr.Textbox(label=f, elem_id=f"vft-attr-{f.lower()}") for f in FIELDS]
    return boxes


def combine(*values: str) -> str:
    return "\n".join(f"{f}: {v.strip()}" for f, v in zip(FIELDS, values, strict=True) if v and v.strip())


def render(model: Any, parsed: Any, text: str) -> str:
    import re

    pack = model.pack
    attributes = pack.attributes_from_text(text)
    checks, claims = pack.review(parsed, attributes)
    shown = parsed
    for claim in claims:  # unsupported words highlighted in the copy itself
        word = claim.split(":", 1)[1]
        shown = re.sub(rf"(?<!\w)({re.escape(word)})(?!\w)", r"**⚠ \1**", shown, flags=re.IGNORECASE)
    mentioned = pack.mentioned(parsed, attributes)
    used = ", ".join(f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in mentioned.items()) or "none"
    marks = [
        f"{'✅' if checks['no_banned_words'] else '❌'} no banned words",
        f"{'✅' if checks['length_ok'] else '❌'} length {len(parsed.split())} words "
        f"(aim {pack.style.length_words[0]}-{pack.style.length_words[1]})",
        f"{'✅' if checks['required_mentions'] else '❌'} mentions the product name",
        "✅ no unsupported claims" if not claims else f"❌ not in the input: {', '.join(claims)}",
    ]
    marks.append(f"{'✅' if not pack.repeats_a_line(parsed) else '❌'} no repeated line")
    marks.append(f"Attributes mentioned: {used}")
    return shown + "\n\n---\n" + "  \n".join(marks)


def spec() -> AppSpec:
    return AppSpec(
        pack="ecommerce",
        title="Product copy in your brand's voice",
        input_label="Product attributes ('Key: value' per line)",
        render=render,
        extra_inputs=form,
        combine_inputs=combine,
        notes=["Fill the form and press 'Fill text from the form', or edit the attribute lines directly."],
    )


if __name__ == "__main__":
    main(spec)
