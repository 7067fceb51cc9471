"""Sinch request signing: the ``Application`` HMAC scheme and Basic auth.

The signed scheme, as the Sinch platform and its official SDKs implement it::

    Content-MD5   = Base64(MD5(body))                     # "" when the body is empty
    StringToSign  = METHOD \\n Content-MD5 \\n Content-Type \\n "x-timestamp:" + X-Timestamp \\n Path
    Signature     = Base64(HMAC-SHA256(Base64Decode(secret), UTF-8(StringToSign)))
    Authorization = "Application " + key + ":" + Signature

Callbacks that Sinch sends to an application backend are signed the same way, so one check,
``signature_matches``, serves the callback verifier (``callbacks.verify_callback``),
``verify_signature`` and the recorded server's authentication.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import datetime, timezone

import httpx

__all__ = [
    "ApplicationAuth",
    "BasicAuth",
    "compute_signature",
    "content_md5",
    "decode_secret",
    "parse_authorization",
    "request_signature",
    "sign_request",
    "signature_matches",
    "string_to_sign",
    "utc_timestamp",
    "verify_signature",
]

_SCHEME = "Application"
_TIMESTAMP_HEADER = "x-timestamp"

# MD5 objects are copied from a prototype: with OpenSSL 3 a new one fetches its algorithm each time
# (several microseconds per signed request in a busy server, measured).
# MD5 is what the protocol specifies; it is a checksum here, not a security primitive.
_MD5 = hashlib.md5(usedforsecurity=False)


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def content_md5(body: bytes) -> str:
    """Base64 of the MD5 digest of ``body``; the empty string for an empty body."""
    if not body:
        return ""
    digest = _MD5.copy()
    digest.update(body)
    return _b64(digest.digest())


def string_to_sign(method: str, content_md5: str, content_type: str, timestamp: str, path: str) -> str:
    """Join the signed fields in protocol order. Values are used exactly as given."""
    return "\n".join([method, content_md5, content_type, f"{_TIMESTAMP_HEADER}:{timestamp}", path])


def decode_secret(secret: str) -> bytes:
    """Decode a base64 application secret, tolerating missing ``=`` padding.

    Raises ``ValueError`` with a message that never contains the secret itself.
    """
    stripped = secret.strip().rstrip("=")
    if not stripped:
        raise ValueError("application secret is empty")
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        pass
    # Raised outside the handler, so no exception context drags the value along.
    raise ValueError("application secret is not valid base64 (copy it from the Sinch dashboard)")


def compute_signature(secret: bytes, string_to_sign: str) -> str:
    """Base64 HMAC-SHA256 of the UTF-8 string to sign, keyed with the decoded secret."""
    return _b64(hmac.digest(secret, string_to_sign.encode("utf-8"), hashlib.sha256))


def utc_timestamp(now: datetime | None = None) -> str:
    """ISO-8601 UTC timestamp with millisecond precision, e.g. ``2023-11-22T09:10:11.999Z``.

    A naive ``now`` is taken to be UTC already.
    """
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is not None:
        now = now.astimezone(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _signed_path(raw_path: str) -> str:
    """The path part of a raw request target: the query is not signed."""
    return raw_path.split("?", 1)[0]


def request_signature(secret: bytes, method: str, body: bytes, content_type: str, timestamp: str, path: str) -> str:
    """The signature of a request: what signing puts in, and verifying compares with, ``Authorization``.

    ``path`` is the raw request target (any query is dropped); ``content_type`` is the header as
    sent, empty when there is none.
    """
    to_sign = string_to_sign(method.upper(), content_md5(body), content_type, timestamp, _signed_path(path))
    return compute_signature(secret, to_sign)


def sign_request(request: httpx.Request, key: str, secret: bytes, now: datetime | None = None) -> None:
    """Set a fresh ``x-timestamp`` and the ``Authorization`` header on ``request``.

    Signs exactly what goes on the wire: the body bytes, the Content-Type header as sent
    (empty if none) and the percent-encoded path (including any base path) without query.
    The body must already be read (``ApplicationAuth`` declares ``requires_request_body``).
    """
    timestamp = utc_timestamp(now)
    signature = request_signature(
        secret,
        request.method,
        request.content,
        request.headers.get("Content-Type", ""),
        timestamp,
        request.url.raw_path.decode("ascii"),
    )
    request.headers[_TIMESTAMP_HEADER] = timestamp
    request.headers["Authorization"] = f"{_SCHEME} {key}:{signature}"


class ApplicationAuth(httpx.Auth):
    """httpx auth that signs every request (and every retry) with the application secret.

    ``clock`` exists for tests; by default each signature uses the current time.
    """

    requires_request_body = True

    def __init__(self, key: str, secret: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self._key = key
        self._secret = decode_secret(secret)  # fail at construction, not on the first call
        self._clock = clock

    @property
    def key(self) -> str:
        return self._key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        now = self._clock() if self._clock is not None else None
        sign_request(request, self._key, self._secret, now)
        yield request

    def __repr__(self) -> str:
        return f"ApplicationAuth(key={self._key!r})"


class BasicAuth(httpx.BasicAuth):
    """``Authorization: Basic base64(key:secret)``, with the secret kept out of ``repr``."""

    def __init__(self, key: str, secret: str) -> None:
        super().__init__(key, secret)
        self._key = key

    @property
    def key(self) -> str:
        return self._key

    def __repr__(self) -> str:
        return f"BasicAuth(key={self._key!r})"


def parse_authorization(header: str) -> tuple[str, str, str]:
    """Split ``"<scheme> <key>:<signature>"`` into (lower-cased scheme, key, signature).

    Raises ``ValueError`` on any other shape; the message does not echo the header.
    """
    scheme, _, credentials = header.strip().partition(" ")
    key, sep, signature = credentials.strip().rpartition(":")
    if not scheme or not sep or not key or not signature:
        raise ValueError("malformed Authorization header: expected '<scheme> <key>:<signature>'")
    return scheme.lower(), key, signature


def verify_signature(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    key: str,
    secret: bytes,
) -> bool:
    """Check a signed request (or Sinch callback) against ``key`` and the decoded ``secret``.

    ``headers`` are looked up case-insensitively and used exactly as received; ``body`` must be
    the raw bytes. ``path`` may carry a query string, which is ignored. The timestamp's age is
    not checked here: that policy belongs to the caller.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization")
    timestamp = lowered.get(_TIMESTAMP_HEADER)
    if authorization is None or timestamp is None:
        return False
    try:
        scheme, received_key, received_signature = parse_authorization(authorization)
    except ValueError:
        return False
    if scheme != _SCHEME.lower() or received_key != key:
        return False
    return signature_matches(
        secret,
        received_signature,
        method=method,
        paths=(_signed_path(path),),
        body=body,
        content_type=lowered.get("content-type", ""),
        timestamp=timestamp,
    )


def signature_matches(
    secret: bytes,
    signature: str,
    *,
    method: str,
    paths: Sequence[str],
    body: bytes,
    content_type: str,
    timestamp: str,
) -> bool:
    """Whether ``signature`` signs this request over any of ``paths``, compared in constant time.

    Each path is signed exactly as given (the caller drops the query: a percent-decoded path may
    hold a '?'), and every one is computed, so the time taken does not tell which one matched.
    """
    md5 = content_md5(body)
    given = signature.encode("utf-8", "replace")
    matched = False
    for path in paths:
        expected = compute_signature(secret, string_to_sign(method.upper(), md5, content_type, timestamp, path))
        matched = hmac.compare_digest(expected.encode("ascii"), given) or matched
    return matched
