from __future__ import annotations

import base64
import hashlib
import hmac
import string
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sinch.core.signature import Signature as OldSdkSignature
from sinch_calling._runtime.signing import (
    ApplicationAuth,
    BasicAuth,
    compute_signature,
    content_md5,
    decode_secret,
    parse_authorization,
    sign_request,
    string_to_sign,
    utc_timestamp,
    verify_signature,
)

from tests.support import (
    CALLBACK_BODY,
    CALLBACK_KEY,
    CALLBACK_MD5,
    CALLBACK_PATH,
    CALLBACK_SECRET,
    CALLBACK_SIGNATURE,
    CALLBACK_TIMESTAMP,
    SDK_GET_SIGNATURE,
    SDK_KEY,
    SDK_NOW,
    SDK_PATH,
    SDK_POST_AUTHORIZATION,
    SDK_POST_BODY,
    SDK_SECRET,
    SDK_TIMESTAMP,
)

CALLBACK_AUTHORIZATION = f"application {CALLBACK_KEY}:{CALLBACK_SIGNATURE}"  # Sinch sends the scheme in lower case


def _signed(request: httpx.Request, *, secret: str = SDK_SECRET, now: datetime = SDK_NOW) -> httpx.Request:
    sign_request(request, SDK_KEY, decode_secret(secret), now)
    return request


# --- published vectors ---------------------------------------------------------------


def test_callback_vector_content_md5_and_signature() -> None:
    assert content_md5(CALLBACK_BODY) == CALLBACK_MD5
    to_sign = string_to_sign("POST", CALLBACK_MD5, "application/json", CALLBACK_TIMESTAMP, CALLBACK_PATH)
    assert compute_signature(decode_secret(CALLBACK_SECRET), to_sign) == CALLBACK_SIGNATURE


def test_callback_vector_verifies_with_lower_case_scheme() -> None:
    headers = {
        "authorization": CALLBACK_AUTHORIZATION,
        "X-Timestamp": CALLBACK_TIMESTAMP,
        "Content-Type": "application/json",
    }
    assert parse_authorization(CALLBACK_AUTHORIZATION) == ("application", CALLBACK_KEY, CALLBACK_SIGNATURE)
    assert verify_signature(
        method="POST",
        path=CALLBACK_PATH,
        headers=headers,
        body=CALLBACK_BODY,
        key=CALLBACK_KEY,
        secret=decode_secret(CALLBACK_SECRET),
    )


def test_sdk_vector_post() -> None:
    request = _signed(
        httpx.Request(
            "POST",
            f"https://calling.api.sinch.com{SDK_PATH}",
            content=SDK_POST_BODY,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
    )
    assert request.headers["x-timestamp"] == SDK_TIMESTAMP
    assert request.headers["Authorization"] == SDK_POST_AUTHORIZATION


def test_sdk_vector_get_without_body() -> None:
    request = _signed(
        httpx.Request("GET", f"https://calling.api.sinch.com{SDK_PATH}", headers={"Content-Type": "application/json"})
    )
    assert request.headers["Authorization"] == f"Application {SDK_KEY}:{SDK_GET_SIGNATURE}"
    to_sign = string_to_sign("GET", "", "application/json", SDK_TIMESTAMP, SDK_PATH)
    assert compute_signature(decode_secret(SDK_SECRET), to_sign) == SDK_GET_SIGNATURE


def test_content_md5_of_empty_body_is_empty() -> None:
    assert content_md5(b"") == ""


def test_string_to_sign_layout() -> None:
    assert string_to_sign("GET", "md5", "text/plain", "T", "/p") == "GET\nmd5\ntext/plain\nx-timestamp:T\n/p"


# --- secrets ---------------------------------------------------------------------------


def test_secret_without_padding_is_accepted() -> None:
    assert decode_secret("bXkta2V5LXNlY3JldA") == decode_secret(SDK_SECRET) == b"my-key-secret"
    request = _signed(
        httpx.Request(
            "POST",
            f"https://h{SDK_PATH}",
            content=SDK_POST_BODY,
            headers={"Content-Type": "application/json; charset=UTF-8"},
        ),
        secret="bXkta2V5LXNlY3JldA",
    )
    assert request.headers["Authorization"] == SDK_POST_AUTHORIZATION


@pytest.mark.parametrize("secret", ["not base64!!", "abcde", "ÿÿÿÿ", "c2Vj\x00cmV0", "sec ret="])
def test_invalid_secret_is_refused_without_echoing_it(secret: str) -> None:
    with pytest.raises(ValueError, match="application secret is not valid base64") as info:
        decode_secret(secret)
    assert secret not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None  # nothing chained carries it

    with pytest.raises(ValueError) as info:
        ApplicationAuth("key", secret)
    assert secret not in str(info.value)


@pytest.mark.parametrize("secret", ["", "   ", "=="])
def test_empty_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="application secret is empty"):
        decode_secret(secret)


def test_reprs_never_show_the_secret() -> None:
    secret = "c3VwZXItc2VjcmV0LXZhbHVl"
    for auth in (ApplicationAuth("my-key", secret), BasicAuth("my-key", secret)):
        text = repr(auth) + str(auth)
        assert "my-key" in text
        assert secret not in text
        assert "super-secret-value" not in text


def test_basic_auth_header() -> None:
    request = httpx.Request("GET", "https://h/x")
    flow = BasicAuth("key", "c2VjcmV0").auth_flow(request)
    signed = next(flow)
    assert signed.headers["Authorization"] == "Basic " + base64.b64encode(b"key:c2VjcmV0").decode()


# --- what the signature covers -----------------------------------------------------------


def _authorization(
    *,
    method: str = "POST",
    url: str = "https://h/calls/id/abc",
    body: bytes = b'{"a":1}',
    content_type: str | None = "application/json",
    now: datetime = SDK_NOW,
) -> str:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    request = httpx.Request(method, url, content=body, headers=headers)
    sign_request(request, SDK_KEY, decode_secret(SDK_SECRET), now)
    return request.headers["Authorization"]


@pytest.mark.parametrize(
    "change",
    [
        {"method": "PUT"},
        {"url": "https://h/calls/id/abd"},
        {"body": b'{"a":2}'},
        {"body": b""},
        {"content_type": "application/json; charset=UTF-8"},
        {"content_type": None},
        {"now": SDK_NOW + timedelta(milliseconds=1)},
    ],
    ids=["method", "path", "body", "empty-body", "content-type", "no-content-type", "timestamp"],
)
def test_signature_changes_with_each_signed_field(change: dict[str, object]) -> None:
    assert _authorization(**change) != _authorization()  # type: ignore[arg-type]


def test_host_and_scheme_are_not_signed() -> None:
    assert _authorization(url="http://other:8080/calls/id/abc") == _authorization()


def test_query_is_not_signed() -> None:
    assert _authorization(url="https://h/calls/id/abc?x=1&y=%20") == _authorization()


def test_missing_content_type_signs_empty_string() -> None:
    request = httpx.Request("DELETE", "https://h/conferences/id/c1")
    sign_request(request, SDK_KEY, decode_secret(SDK_SECRET), SDK_NOW)
    to_sign = string_to_sign("DELETE", "", "", SDK_TIMESTAMP, "/conferences/id/c1")
    assert request.headers["Authorization"] == f"Application {SDK_KEY}:{compute_signature(b'my-key-secret', to_sign)}"


def test_percent_encoded_path_is_signed_as_sent() -> None:
    request = httpx.Request("GET", "https://h/calling/query/number/%2B46700000000")
    sign_request(request, SDK_KEY, decode_secret(SDK_SECRET), SDK_NOW)
    to_sign = string_to_sign("GET", "", "", SDK_TIMESTAMP, "/calling/query/number/%2B46700000000")
    assert request.headers["Authorization"].endswith(compute_signature(b"my-key-secret", to_sign))


def test_base_path_prefix_is_signed() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    auth = ApplicationAuth(SDK_KEY, SDK_SECRET, clock=lambda: SDK_NOW)
    with httpx.Client(base_url="http://h/calling/v1", auth=auth, transport=httpx.MockTransport(handler)) as client:
        client.patch(
            "/calls/id/x", content=b'{"action":{"name":"hangup"}}', headers={"Content-Type": "application/json"}
        )

    (request,) = seen
    assert request.url.raw_path == b"/calling/v1/calls/id/x"
    expected = string_to_sign(
        "PATCH",
        content_md5(b'{"action":{"name":"hangup"}}'),
        "application/json",
        SDK_TIMESTAMP,
        "/calling/v1/calls/id/x",
    )
    assert request.headers["Authorization"] == f"Application {SDK_KEY}:{compute_signature(b'my-key-secret', expected)}"
    assert verify_signature(
        method="PATCH",
        path="/calling/v1/calls/id/x",
        headers=request.headers,
        body=request.content,
        key=SDK_KEY,
        secret=b"my-key-secret",
    )


# --- timestamps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (SDK_NOW, SDK_TIMESTAMP),
        (datetime(2023, 11, 22, 9, 10, 11, 999_999, tzinfo=timezone.utc), "2023-11-22T09:10:11.999Z"),
        (datetime(2023, 11, 22, 9, 10, 11, tzinfo=timezone.utc), "2023-11-22T09:10:11.000Z"),
        (datetime(2023, 11, 22, 11, 10, 11, 5_000, tzinfo=timezone(timedelta(hours=2))), "2023-11-22T09:10:11.005Z"),
        (datetime(2023, 11, 22, 9, 10, 11, 123_456), "2023-11-22T09:10:11.123Z"),  # naive: taken as UTC
    ],
)
def test_utc_timestamp(now: datetime, expected: str) -> None:
    assert utc_timestamp(now) == expected


def test_utc_timestamp_defaults_to_now() -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=1)
    stamp = utc_timestamp()
    assert stamp.endswith("Z") and len(stamp) == len(SDK_TIMESTAMP)
    assert datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) >= before


# --- parsing and verification ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Application k:s", ("application", "k", "s")),
        ("APPLICATION k:s=", ("application", "k", "s=")),
        ("  application   k:s  ", ("application", "k", "s")),
        ("Application a:b:sig", ("application", "a:b", "sig")),
    ],
)
def test_parse_authorization(header: str, expected: tuple[str, str, str]) -> None:
    assert parse_authorization(header) == expected


@pytest.mark.parametrize(
    "header", ["", "Application", "Application k", "Application :s", "Application k:", "k:s", "Basic a2V5OnNlY3JldA=="]
)
def test_parse_authorization_rejects_malformed(header: str) -> None:
    with pytest.raises(ValueError, match="malformed Authorization header") as info:
        parse_authorization(header)
    if header:
        assert header not in str(info.value)


def _callback_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "Authorization": CALLBACK_AUTHORIZATION,
        "x-timestamp": CALLBACK_TIMESTAMP,
        "content-type": "application/json",
    }
    headers.update(overrides)
    return headers


def _verify_callback(
    *,
    headers: dict[str, str] | None = None,
    body: bytes = CALLBACK_BODY,
    path: str = CALLBACK_PATH,
    method: str = "POST",
    key: str = CALLBACK_KEY,
) -> bool:
    return verify_signature(
        method=method,
        path=path,
        headers=_callback_headers() if headers is None else headers,
        body=body,
        key=key,
        secret=decode_secret(CALLBACK_SECRET),
    )


def test_verify_accepts_callback_vector_with_any_header_case() -> None:
    assert _verify_callback()
    assert _verify_callback(headers={k.upper(): v for k, v in _callback_headers().items()})
    assert _verify_callback(headers=dict(httpx.Headers(_callback_headers())))
    assert _verify_callback(path=CALLBACK_PATH + "?ignored=1")
    assert _verify_callback(method="post")


@pytest.mark.parametrize(
    "tamper",
    [
        {"body": CALLBACK_BODY + b" "},
        {"path": "/sinch/callback/dice"},
        {"method": "PUT"},
        {"key": "another-key"},
        {"headers": _callback_headers(**{"x-timestamp": "2014-09-24T10:59:42Z"})},
        {"headers": _callback_headers(**{"content-type": "application/json; charset=utf-8"})},
        {"headers": _callback_headers(Authorization=f"Basic {CALLBACK_KEY}:{CALLBACK_SIGNATURE}")},
        {"headers": _callback_headers(Authorization=f"application {CALLBACK_KEY}:{CALLBACK_SIGNATURE[:-2]}")},
        {"headers": _callback_headers(Authorization=f"application {CALLBACK_KEY}:sïgnature")},
        {"headers": _callback_headers(Authorization="garbage")},
        {"headers": {"x-timestamp": CALLBACK_TIMESTAMP, "content-type": "application/json"}},
        {"headers": {"authorization": CALLBACK_AUTHORIZATION, "content-type": "application/json"}},
    ],
    ids=[
        "body",
        "path",
        "method",
        "key",
        "timestamp",
        "content-type",
        "scheme",
        "signature",
        "non-ascii-signature",
        "malformed",
        "no-authorization",
        "no-timestamp",
    ],
)
def test_verify_refuses_any_tampering(tamper: dict[str, object]) -> None:
    assert not _verify_callback(**tamper)  # type: ignore[arg-type]


# --- cross-check against the old official SDK (sinch==1.1.4) ----------------------------

_HEADER_SAFE = string.ascii_letters + string.digits + string.punctuation + " "
_methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
_segments = st.text(min_size=1, max_size=12).map(lambda s: quote(s, safe="")).filter(lambda s: s not in {".", ".."})
_paths = st.lists(_segments, max_size=5).map(lambda segments: "/" + "/".join(segments))
_queries = st.one_of(st.just(""), st.text(string.ascii_letters + "=&", min_size=1, max_size=10).map("?".__add__))
_content_types = st.one_of(
    st.sampled_from(
        ["application/json", "application/json; charset=UTF-8", "text/plain", "application/x-www-form-urlencoded"]
    ),
    st.text(_HEADER_SAFE, min_size=1, max_size=40).filter(lambda s: s == s.strip()),
)
_times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc))
_secrets = st.binary(min_size=1, max_size=64).map(lambda raw: base64.b64encode(raw).decode())
_keys = st.one_of(st.uuids().map(str), st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=20))


@settings(max_examples=300, deadline=None)
@given(
    secret=st.one_of(st.binary(max_size=64), st.binary(min_size=65, max_size=200)),
    to_sign=st.text(max_size=300),
    body=st.binary(max_size=300),
)
@example(secret=b"", to_sign="", body=b"")
@example(secret=b"k" * 64, to_sign="x", body=b"x")  # exactly one block: used as is
@example(secret=b"k" * 65, to_sign="x", body=b"x")  # one byte over: hashed first
def test_signature_and_md5_equal_the_standard_library(secret: bytes, to_sign: str, body: bytes) -> None:
    # HMAC is built from two keyed SHA-256 states (RFC 2104) for speed: it must equal hmac's answer
    # for every key length, including keys longer than a SHA-256 block (hashed first) and empty ones.
    expected = base64.b64encode(hmac.new(secret, to_sign.encode("utf-8"), hashlib.sha256).digest()).decode()
    assert compute_signature(secret, to_sign) == expected
    assert compute_signature(secret, to_sign) == expected  # the cached key states are not consumed
    expected_md5 = base64.b64encode(hashlib.md5(body).digest()).decode() if body else ""
    assert content_md5(body) == expected_md5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=_methods,
    path=_paths,
    query=_queries,
    body=st.text(max_size=200),
    content_type=_content_types,
    now=_times,
    key=_keys,
    secret=_secrets,
)
def test_matches_old_official_sdk_signer(
    method: str, path: str, query: str, body: str, content_type: str, now: datetime, key: str, secret: str
) -> None:
    request = httpx.Request(
        method,
        f"https://calling.api.sinch.com{path}{query}",
        content=body.encode(),
        headers={"Content-Type": content_type},
    )
    assert request.url.raw_path == (path + query).encode()  # httpx sends the path unchanged
    sign_request(request, key, decode_secret(secret), now)

    # The old SDK substitutes its own Content-Type when given none, so always pass one.
    sinch = SimpleNamespace(configuration=SimpleNamespace(application_key=key, application_secret=secret))
    old = OldSdkSignature(sinch, method, body, path, content_type=content_type, signature_timestamp=utc_timestamp(now))
    old_headers = old.get_http_headers_with_signature()

    assert request.headers["Authorization"] == old_headers["Authorization"]
    assert request.headers["x-timestamp"] == old_headers["x-timestamp"]


@settings(max_examples=50, deadline=None)
@given(method=_methods, path=_paths, body=st.text(max_size=100), key=_keys, secret=_secrets)
def test_verifies_what_the_old_sdk_sends(method: str, path: str, body: str, key: str, secret: str) -> None:
    # The old SDK stamps requests like 2026-11-27T10:55:48.734574+00:00; verification takes it as sent.
    sinch = SimpleNamespace(configuration=SimpleNamespace(application_key=key, application_secret=secret))
    headers = OldSdkSignature(sinch, method, body, path).get_http_headers_with_signature()
    assert verify_signature(
        method=method, path=path, headers=headers, body=body.encode(), key=key, secret=decode_secret(secret)
    )
