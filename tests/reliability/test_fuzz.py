"""Fuzzing (hypothesis): the data readers and every pack's output parser raise only the project's own errors,
whatever bytes or text they are given."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import read_rows
from core.errors import DataError, ParseError
from core.pack import get_pack

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_like = st.text(alphabet=st.sampled_from(list('{}[]":,0123456789abcnulltrue \n\\')), max_size=200)


@SETTINGS
@given(
    data=st.one_of(st.binary(max_size=400), json_like.map(str.encode)),
    suffix=st.sampled_from([".jsonl", ".json", ".csv", ".parquet"]),
)
def test_readers_raise_only_data_errors(data: bytes, suffix: str):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        try:
            for _ in read_rows(path):
                pass
        except DataError:
            pass


def _packs():
    legal = get_pack("legal")
    legal.definitions = {"Governing Law": "", "Cap on Liability": ""}
    multi = get_pack("legal", {"multi_label": True})
    multi.definitions = dict(legal.definitions)
    return [legal, multi, get_pack("clinical"), get_pack("ecommerce")]


PACKS = _packs()


@SETTINGS
@given(text=st.one_of(st.text(max_size=300), json_like))
def test_parsers_raise_only_parse_errors(text: str):
    for pack in PACKS:
        with contextlib.suppress(ParseError):
            pack.parse(text)


@SETTINGS
@given(
    obj=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    ["age", "sex", "vitals", "medications", "name", "allergies", "heart_rate", "chief_complaint", "x"]
                ),
                children,
                max_size=5,
            )
        ),
        max_leaves=12,
    )
)
def test_clinical_parser_on_structured_json(obj):
    import json

    with contextlib.suppress(ParseError):
        PACKS[2].parse(json.dumps(obj))
