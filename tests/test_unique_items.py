"""Lists that are sets under constrained decoding: the JSON-prefix scanner, the schema lookup, the token rule, and
end to end on the tiny fixture model (a list marked unique ends at its first repeat; the same list unmarked runs
on repeating)."""

import json

import pytest
from pydantic import BaseModel

from core.constrained import bound_schema
from core.unique_items import end_lists_at_repeats, list_cursor, same_item, unique_list_keys


class Inner(BaseModel):
    name: str
    notes: list[str] | None = None


class Form(BaseModel):
    title: str | None = None
    symptoms: list[str] | None = None
    drugs: list[Inner] | None = None


def test_bound_schema_marks_string_lists_unique_through_refs_and_optional_branches():
    schema = bound_schema(Form.model_json_schema(), max_items=4, max_chars=30, unique_strings=True)
    assert unique_list_keys(schema) == {"symptoms", "notes"}  # not the list of objects, not the scalar
    assert unique_list_keys(bound_schema(Form.model_json_schema(), max_items=4, max_chars=30)) == frozenset()


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ('{"title": "x", "symptoms": ["fever", "Cough", "co', ("symptoms", "co", ("fever", "Cough"))),
        ('{"symptoms": ["a\\"b", "', ("symptoms", "", ('a"b',))),
        ('{"drugs": [{"name": "x", "notes": ["daily", "', ("notes", "", ("daily",))),
        ('{"drugs": [{"name": "x"}], "symptoms": ["', ("symptoms", "", ())),
        ('{"symptoms": ["fever", "cough" ', ("symptoms", None, ("fever", "cough"))),  # just after an item
        ('{"title": "fe', None),  # a scalar string
        ('{"drugs": [{"name": "asp', None),  # a string inside an object inside the list
        ('{"symptoms": ["fever",', None),  # after the comma: a new item is coming, nothing to decide yet
        ('{"symptoms": ["a\\', None),  # mid-escape: the next character is text, not a closing quote
    ],
)
def test_list_cursor(prefix, expected):
    cursor = list_cursor(prefix)
    assert (cursor and (cursor.key, cursor.partial, cursor.items)) == expected


class PieceTokenizer:
    """Token id -> text, enough for the rule (it only decodes single tokens)."""

    def __init__(self, pieces: list[str]):
        self.pieces = pieces

    def __len__(self) -> int:
        return len(self.pieces)

    def decode(self, ids: list[int]) -> str:
        return "".join(self.pieces[i] for i in ids)


TOKENS = PieceTokenizer(['pain"', 'pain",', '"', '",', 'pains",', ' pain.",', "]", " ],", ",", " "])


def test_a_repeat_may_close_only_without_a_comma_case_and_space_insensitively():
    cursor = list_cursor('{"symptoms": ["Chest pain", "chest ')
    assert end_lists_at_repeats(cursor, list(range(len(TOKENS))), TOKENS) == [0, 2, 3, 4, 6, 7, 8, 9]
    assert same_item("  Chest   Pain. ") == "chest pain"


def test_after_a_repeat_only_a_bracket_may_come():
    allowed = list(range(len(TOKENS)))
    assert end_lists_at_repeats(list_cursor('{"symptoms": ["a", "A" '), allowed, TOKENS) == [6, 7]
    assert end_lists_at_repeats(list_cursor('{"symptoms": ["a", "b" '), allowed, TOKENS) == allowed
    assert end_lists_at_repeats(list_cursor('{"symptoms": ["a", "a"'), [8], TOKENS) == [8]  # the constraint wins


PROMPTS = [[{"role": "user", "content": f"List the tags of visit {i}."}] for i in range(6)]


def _tags_schema(unique: bool) -> dict:
    tags = {"type": "array", "items": {"type": "string", "enum": ["red", "blue", "green"]}, "maxItems": 6}
    if unique:
        tags["uniqueItems"] = True
    return {"type": "object", "properties": {"tags": tags}, "required": ["tags"]}


def test_a_unique_list_ends_at_its_first_repeat(tiny_model):
    from core.generate import Generator
    from core.models import load_model, load_tokenizer

    gen = Generator(load_model(str(tiny_model), for_training=False), load_tokenizer(str(tiny_model)))
    lists = {}
    for unique in (False, True):
        outs = gen.generate(PROMPTS, max_new_tokens=80, batch_size=3, json_schema=_tags_schema(unique))
        lists[unique] = [json.loads(o.text)["tags"] for o in outs]
    assert any(len(tags) - len(set(tags)) > 1 for tags in lists[False]), lists[False]  # the random model loops
    for tags in lists[True]:  # at most one repeat, and it is the last item
        assert len(set(tags[:-1])) == len(tags) - 1, lists[True]
