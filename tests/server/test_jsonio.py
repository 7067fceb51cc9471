"""JSON in and out of the server: orjson's speed with the standard library's results."""

from __future__ import annotations

import json
import re
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sinch_calling_server.jsonio import dumps, loads, may_hold_a_long_integer, parse_json
from sinch_calling_server.store import MemoryStore

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_same_values_as_the_standard_library(value: object) -> None:
    """Whatever the fast path does, a value read back equals what ``json`` reads (big integers included)."""
    encoded = dumps(value)
    assert json.loads(encoded) == value
    text = json.dumps(value).encode("utf-8")
    assert parse_json(text) == json.loads(text)
    assert loads(encoded) == value


DIGIT_RUNS = st.from_regex(rb"[0-9]{15,25}", fullmatch=True)  # around the 19 that matter


@given(st.binary(max_size=64) | st.tuples(st.binary(max_size=8), DIGIT_RUNS, st.binary(max_size=8)).map(b"".join))
def test_long_integer_check_is_nineteen_ascii_digits_in_a_row(data: bytes) -> None:
    assert may_hold_a_long_integer(data) == (re.search(rb"[0-9]{19}", data) is not None)


@pytest.mark.parametrize(
    "raw",
    [
        b"123456789012345678901234567890",  # orjson would read a float
        b'{"maxDuration": -9223372036854775809}',
        b'[18446744073709551616, "x"]',
    ],
)
def test_big_integers_stay_exact(raw: bytes) -> None:
    parsed = parse_json(raw)
    assert parsed == json.loads(raw)
    assert dumps(parsed) == json.dumps(parsed, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "raw",
    [b"NaN", b'{"a": Infinity}', b'{"a": -Infinity}', b'"\\ud800"', b'{"\\udc00": 1}', b"{not json", b"\xff"],
)
def test_refused_like_the_strict_parser(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-8-sig"])
def test_other_unicode_encodings_are_still_read(encoding: str) -> None:
    raw = json.dumps({"text": "héllo ☎"}).encode(encoding)
    assert parse_json(raw) == {"text": "héllo ☎"}


def test_paired_surrogates_are_text() -> None:
    assert parse_json(b'{"t": "\\ud83d\\ude00"}') == {"t": "\U0001f600"}


def test_output_is_compact_utf8() -> None:
    assert dumps({"a": [1, 2.5, None], "é": "☎"}) == '{"a":[1,2.5,null],"é":"☎"}'.encode()


def test_memory_store_keeps_right_sized_documents() -> None:
    """orjson's output buffer is 8 KiB; kept as is, every stored call would hold that much memory."""
    store = MemoryStore()
    doc = {"callId": "a" * 32, "to": {"type": "number", "endpoint": "+46700000000"}}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(200):
            store.put("calls", f"{index:032x}", doc)
        per_document = (tracemalloc.get_traced_memory()[0] - before) / 200
    finally:
        tracemalloc.stop()
    assert per_document < 1024, per_document
    assert store.get("calls", f"{7:032x}") == doc
