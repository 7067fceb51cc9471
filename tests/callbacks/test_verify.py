"""verify_callback: the published vector, each check refusing what it should, and the variants
of a genuine callback (header case, charset, fractional seconds, unpadded secret) accepted."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sinch_calling import CallbackVerificationError as TopLevelCallbackVerificationError
from sinch_calling import SinchCallingError
from sinch_calling._runtime.callbacks import parse_timestamp
from sinch_calling.callbacks import DEFAULT_MAX_AGE, CallbackVerificationError, verify_callback
from starlette.datastructures import Headers as StarletteHeaders

from tests.callbacks.helpers import KEY, SECRET, VECTOR_HEADERS, VECTOR_TIME, signature, signed_headers
from tests.support import (
    CALLBACK_BODY,
    CALLBACK_KEY,
    CALLBACK_PATH,
    CALLBACK_SECRET,
    CALLBACK_SIGNATURE,
    CALLBACK_TIMESTAMP,
)

PATH = "/sinch/callback"
BODY = b'{"event":"dice","callid":"4398599d1ba84ef3bde0a82dfb61abed","reason":"CALLEEHANGUP","version":1}'
NOW = datetime(2026, 11, 27, 10, 55, 48, tzinfo=timezone.utc)
NOW_STAMP = "2026-11-27T10:55:48.000Z"


def verify(headers: Any, body: bytes = BODY, *, path: str = PATH, method: str = "POST", **kwargs: Any) -> None:
    kwargs.setdefault("now", NOW)
    verify_callback(method, path, headers, body, kwargs.pop("key", KEY), kwargs.pop("secret", SECRET), **kwargs)


def refused(headers: Any, body: bytes = BODY, **kwargs: Any) -> CallbackVerificationError:
    with pytest.raises(CallbackVerificationError) as caught:
        verify(headers, body, **kwargs)
    return caught.value


# ---------------------------------------------------------------- the published vector


def test_vector_1_passes_at_its_own_time() -> None:
    verify_callback(
        "POST", CALLBACK_PATH, VECTOR_HEADERS, CALLBACK_BODY, CALLBACK_KEY, CALLBACK_SECRET, now=VECTOR_TIME
    )


def test_vector_1_passes_without_the_age_check() -> None:
    verify_callback("POST", CALLBACK_PATH, VECTOR_HEADERS, CALLBACK_BODY, CALLBACK_KEY, CALLBACK_SECRET, max_age=None)


def test_vector_1_is_refused_today_as_too_old() -> None:
    with pytest.raises(CallbackVerificationError) as caught:
        verify_callback("POST", CALLBACK_PATH, VECTOR_HEADERS, CALLBACK_BODY, CALLBACK_KEY, CALLBACK_SECRET)
    assert caught.value.check == "timestamp"
    assert "old" in caught.value.message


def test_vector_1_signature_is_reproduced_by_the_test_signer() -> None:
    # The tests below sign with the same functions; this ties them to the published value.
    assert signature(CALLBACK_BODY, secret=CALLBACK_SECRET, path=CALLBACK_PATH, timestamp=CALLBACK_TIMESTAMP) == (
        CALLBACK_SIGNATURE
    )


def test_the_public_error_is_the_package_wide_one() -> None:
    assert CallbackVerificationError is TopLevelCallbackVerificationError
    assert issubclass(CallbackVerificationError, SinchCallingError)
    assert timedelta(minutes=15) == DEFAULT_MAX_AGE


# ---------------------------------------------------------------- each check refuses


def good() -> dict[str, str]:
    return signed_headers(BODY, timestamp=NOW_STAMP)


def test_a_genuine_callback_passes() -> None:
    verify(good())


def test_tampered_body_is_refused_by_the_signature() -> None:
    assert refused(good(), BODY.replace(b"CALLEEHANGUP", b"CALLERHANGUP")).check == "signature"


def test_appended_byte_is_refused_by_the_signature() -> None:
    assert refused(good(), BODY + b" ").check == "signature"


def test_tampered_path_is_refused_by_the_signature() -> None:
    assert refused(good(), path="/sinch/callback/other").check == "signature"


def test_tampered_method_is_refused_by_the_signature() -> None:
    assert refused(good(), method="PUT").check == "signature"


def test_tampered_content_type_is_refused_by_the_signature() -> None:
    headers = good() | {"Content-Type": "application/json; charset=utf-8"}
    assert refused(headers).check == "signature"


def test_tampered_timestamp_is_refused_by_the_signature() -> None:
    # One second later is still fresh: only the signature can tell that it was changed.
    headers = good() | {"x-timestamp": "2026-11-27T10:55:49.000Z"}
    assert refused(headers).check == "signature"


def test_replayed_timestamp_is_refused_even_when_fresh_looking() -> None:
    # A stale callback re-sent with a new x-timestamp but the old signature.
    old = signed_headers(BODY, timestamp="2026-11-27T09:00:00Z")
    assert refused(old | {"x-timestamp": NOW_STAMP}).check == "signature"


def test_another_application_key_is_refused() -> None:
    headers = signed_headers(BODY, key="11111111-2222-4333-8444-555555555555", timestamp=NOW_STAMP)
    error = refused(headers)
    assert error.check == "application_key"
    assert "11111111-2222-4333-8444-555555555555" in error.message


def test_a_callback_for_another_configured_key_is_refused() -> None:
    assert refused(good(), key="some-other-application").check == "application_key"


def test_the_wrong_secret_is_refused_by_the_signature() -> None:
    other_secret = base64.b64encode(b"not the secret").decode()
    assert refused(good(), secret=other_secret).check == "signature"


def test_a_stale_timestamp_is_refused() -> None:
    stale = signed_headers(BODY, timestamp="2026-11-27T10:40:47Z")  # 15 min 1 s before NOW
    error = refused(stale)
    assert error.check == "timestamp"
    assert "old" in error.message


def test_a_timestamp_just_within_max_age_passes() -> None:
    verify(signed_headers(BODY, timestamp="2026-11-27T10:40:48Z"))
    verify(signed_headers(BODY, timestamp="2026-11-27T11:10:48Z"))


def test_a_future_timestamp_is_refused() -> None:
    future = signed_headers(BODY, timestamp="2026-11-27T11:10:49Z")  # 15 min 1 s after NOW
    error = refused(future)
    assert error.check == "timestamp"
    assert "future" in error.message


def test_max_age_is_configurable_and_can_be_switched_off() -> None:
    headers = signed_headers(BODY, timestamp="2026-11-27T10:54:48Z")
    assert refused(headers, max_age=timedelta(seconds=30)).check == "timestamp"
    verify(headers, max_age=timedelta(minutes=2))
    verify(signed_headers(BODY, timestamp="1999-01-01T00:00:00Z"), max_age=None)


def test_without_now_the_current_clock_is_used() -> None:
    verify_callback("POST", PATH, signed_headers(BODY), BODY, KEY, SECRET)


def test_a_naive_now_is_taken_as_utc() -> None:
    verify(good(), now=NOW.replace(tzinfo=None))


def test_the_freshness_check_comes_after_the_signature() -> None:
    # A forged callback with a stale timestamp is reported as forged, not as stale.
    headers = signed_headers(BODY, timestamp="2020-01-01T00:00:00Z")
    assert refused(headers, BODY + b"x").check == "signature"


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (lambda h: h.pop("Authorization"), "authorization"),
        (lambda h: h.update(Authorization=""), "authorization"),
        (lambda h: h.update(Authorization="application"), "authorization"),
        (lambda h: h.update(Authorization=f"application {KEY}"), "authorization"),
        (lambda h: h.update(Authorization=f"application {KEY}:"), "authorization"),
        (lambda h: h.update(Authorization="application :c2ln"), "authorization"),
        (lambda h: h.update(Authorization=h["Authorization"].replace("application", "Basic")), "scheme"),
        (lambda h: h.update(Authorization="Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()), "scheme"),
        (lambda h: h.update(Authorization="Bearer abc.def.ghi"), "scheme"),
        (lambda h: h.update(Authorization=h["Authorization"].replace("application", "applications")), "scheme"),
        (lambda h: h.pop("x-timestamp"), "timestamp"),
        (lambda h: h.update({"x-timestamp": ""}), "timestamp"),
        (lambda h: h.update({"x-timestamp": "yesterday"}), "timestamp"),
        (lambda h: h.update({"x-timestamp": "2026-13-27T10:55:48Z"}), "timestamp"),
        (lambda h: h.update({"x-timestamp": "2026-11-27T25:55:48Z"}), "timestamp"),
        (lambda h: h.update({"x-timestamp": "1795776948"}), "timestamp"),
        (lambda h: h.update({"x-timestamp": "2026-11-27T10:55:48+25:00"}), "timestamp"),
        (lambda h: h.update({"x-timestamp": "\uff12\uff10\uff12\uff16-11-27T10:55:48Z"}), "timestamp"),
        (lambda h: h.update(Authorization=h["Authorization"][:-4] + "AAA="), "signature"),
        (lambda h: h.update(Authorization=h["Authorization"] + "="), "signature"),
        (lambda h: h.update(Authorization=h["Authorization"].lower()), "signature"),
        (lambda h: h.pop("Content-Type"), "signature"),
    ],
    ids=[
        "no-authorization",
        "empty-authorization",
        "scheme-only",
        "no-signature",
        "empty-signature",
        "empty-key",
        "basic-scheme-word",
        "basic-credentials",
        "bearer",
        "near-scheme",
        "no-timestamp",
        "empty-timestamp",
        "word-timestamp",
        "month-13",
        "hour-25",
        "epoch-seconds",
        "bad-offset",
        "non-ascii-digits",
        "other-signature",
        "signature-with-suffix",
        "signature-case",
        "content-type-dropped",
    ],
)
def test_each_malformed_part_is_refused_by_its_check(change: Callable[[dict[str, str]], object], check: str) -> None:
    headers = good()
    change(headers)
    assert refused(headers).check == check


@pytest.mark.parametrize("name", ["Authorization", "x-timestamp"])
def test_a_repeated_signed_header_is_refused(name: str) -> None:
    headers = good()
    pairs = [*headers.items(), (name.upper(), headers[name])]
    assert refused(pairs).check == ("authorization" if name == "Authorization" else "timestamp")


def test_a_repeated_content_type_is_refused() -> None:
    pairs = [*good().items(), ("content-type", "application/json")]
    assert refused(pairs).check == "signature"


def test_a_text_body_is_a_programming_error_not_a_refusal() -> None:
    with pytest.raises(TypeError, match="raw request bytes"):
        verify(good(), BODY.decode())  # type: ignore[arg-type]


def test_a_bad_secret_is_a_configuration_error_that_does_not_echo_it() -> None:
    with pytest.raises(ValueError, match="not valid base64") as caught:
        verify(good(), secret="not*base64*at*all")
    assert "not*base64" not in str(caught.value)
    assert not isinstance(caught.value, CallbackVerificationError)


def test_a_negative_max_age_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        verify(good(), max_age=timedelta(seconds=-1))


# ---------------------------------------------------------------- variants that must pass


@pytest.mark.parametrize("scheme", ["application", "Application", "APPLICATION", "aPpLiCaTiOn"])
def test_the_scheme_is_case_insensitive(scheme: str) -> None:
    verify(signed_headers(BODY, timestamp=NOW_STAMP, scheme=scheme))


@pytest.mark.parametrize(
    "names",
    [
        ("authorization", "x-timestamp", "content-type"),
        ("AUTHORIZATION", "X-TIMESTAMP", "CONTENT-TYPE"),
        ("Authorization", "X-Timestamp", "Content-Type"),
        ("aUtHoRiZaTiOn", "x-TiMeStAmP", "cOnTeNt-TyPe"),
    ],
)
def test_header_names_in_any_case(names: tuple[str, str, str]) -> None:
    headers = good()
    renamed = {
        names[0]: headers["Authorization"],
        names[1]: headers["x-timestamp"],
        names[2]: headers["Content-Type"],
        "X-Unrelated": "ignored",
    }
    verify(renamed)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=UTF-8",
        "application/json; charset=utf-8",
        "application/json;charset=utf-8",
        'application/json; charset="UTF-8"',
        "application/json; charset=ISO-8859-1",
        "Application/JSON",
        "text/plain",
    ],
)
def test_any_content_type_and_charset_as_sent(content_type: str) -> None:
    verify(signed_headers(BODY, timestamp=NOW_STAMP, content_type=content_type))


def test_no_content_type_and_an_empty_body() -> None:
    verify(signed_headers(b"", timestamp=NOW_STAMP, content_type=None), b"")


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-11-27T10:55:48Z",
        "2026-11-27T10:55:48.1Z",
        "2026-11-27T10:55:48.12Z",
        "2026-11-27T10:55:48.123Z",
        "2026-11-27T10:55:48.1234Z",
        "2026-11-27T10:55:48.123456Z",
        "2026-11-27T10:55:48.123456789Z",
        "2026-11-27T10:55:48.1234567890123Z",
        "2026-11-27T10:55:48,5Z",
        "2026-11-27T10:55:48.734574+00:00",  # what the old Python SDK sends
        "2026-11-27T11:55:48.734+01:00",
        "2026-11-27T05:25:48-0530",
        "2026-11-27T12:55:48+02",
        "2026-11-27T10:55:48",
        "2026-11-27 10:55:48z",
    ],
)
def test_timestamps_with_fractions_of_any_length_and_offsets(timestamp: str) -> None:
    verify(signed_headers(BODY, timestamp=timestamp))


@pytest.mark.parametrize("secret", [SECRET, SECRET.rstrip("="), f" {SECRET}\n"])
def test_a_secret_with_or_without_padding(secret: str) -> None:
    assert SECRET.endswith("=") and SECRET.rstrip("=") != SECRET
    verify(good(), secret=secret)


def test_vector_secret_without_padding() -> None:
    verify_callback(
        "POST", CALLBACK_PATH, VECTOR_HEADERS, CALLBACK_BODY, CALLBACK_KEY, CALLBACK_SECRET.rstrip("="), now=VECTOR_TIME
    )


@pytest.mark.parametrize(
    "make",
    [
        dict,
        httpx.Headers,
        StarletteHeaders,
        lambda h: list(h.items()),
        lambda h: [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in h.items()],
    ],
    ids=["dict", "httpx", "starlette", "str-pairs", "asgi-bytes-pairs"],
)
def test_headers_as_any_mapping_or_pairs(make: Callable[[dict[str, str]], Any]) -> None:
    verify(make(good()))


def test_the_query_string_is_not_signed() -> None:
    verify(good(), path=PATH + "?source=sinch&retry=1")


def test_the_method_is_upper_cased() -> None:
    verify(good(), method="post")


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # the runtime looks it up at each call
    with pytest.raises(CallbackVerificationError):
        verify(good(), BODY + b"x")
    received = good()["Authorization"].rsplit(":", 1)[1].encode()
    assert any(b == received for _, b in compared)


# ---------------------------------------------------------------- errors never leak the secret


REFUSALS: list[tuple[str, dict[str, Any]]] = [
    ("authorization", {"headers": {"x-timestamp": NOW_STAMP}}),
    ("scheme", {"headers": {"Authorization": f"Basic {SECRET}", "x-timestamp": NOW_STAMP}}),
    ("application_key", {"key": "other"}),
    ("timestamp", {"now": NOW + timedelta(hours=1)}),
    ("signature", {"body": BODY + b"!"}),
    ("signature", {"secret": base64.b64encode(b"a different secret").decode()}),
]


@pytest.mark.parametrize(("check", "case"), REFUSALS, ids=[f"{c}-{i}" for i, (c, _) in enumerate(REFUSALS)])
def test_no_error_contains_the_secret_or_the_expected_signature(check: str, case: dict[str, Any]) -> None:
    case = dict(case)
    headers = case.pop("headers", good())
    body = case.pop("body", BODY)
    secret = case.get("secret", SECRET)
    expected_signature = signature(body, secret=secret, timestamp=NOW_STAMP)
    error = refused(headers, body, **case)
    assert error.check == check
    decoded = base64.b64decode(SECRET)
    for text in (str(error), repr(error), error.message, repr(error.args)):
        for secret_form in (SECRET, SECRET.rstrip("="), secret, secret.rstrip("=")):
            assert secret_form not in text
        assert decoded.decode("latin-1") not in text
        assert expected_signature not in text
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


def test_the_error_names_the_check_in_its_text() -> None:
    error = refused(good(), BODY + b"!")
    assert str(error).startswith("callback verification failed (signature): ")


def test_long_received_values_are_cut_short_in_messages() -> None:
    headers = good() | {"Authorization": "application " + "k" * 5000 + ":sig"}
    error = refused(headers)
    assert error.check == "application_key"
    assert len(str(error)) < 400


# ---------------------------------------------------------------- x-timestamp parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-09-24T10:59:41Z", datetime(2014, 9, 24, 10, 59, 41, tzinfo=timezone.utc)),
        ("2023-11-22T09:10:11.999Z", datetime(2023, 11, 22, 9, 10, 11, 999000, tzinfo=timezone.utc)),
        ("2023-11-22T09:10:11.9999999Z", datetime(2023, 11, 22, 9, 10, 11, 999999, tzinfo=timezone.utc)),
        ("2023-11-22T09:10:11.5+01:00", datetime(2023, 11, 22, 8, 10, 11, 500000, tzinfo=timezone.utc)),
        ("2023-11-22T00:10:11-05:30", datetime(2023, 11, 22, 5, 40, 11, tzinfo=timezone.utc)),
        ("2023-11-22T09:10:11", datetime(2023, 11, 22, 9, 10, 11, tzinfo=timezone.utc)),
    ],
)
def test_parse_timestamp(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected
    assert parse_timestamp(text).tzinfo is not None


@pytest.mark.parametrize(
    "text",
    ["", "2023-11-22", "2023-11-22T09:10Z", "2023-11-22T09:10:11.Z", "2023-02-30T00:00:00Z", " 2023-11-22T09:10:11Z"],
)
def test_parse_timestamp_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="x-timestamp"):
        parse_timestamp(text)
