"""``callbacks verify``: does a captured request's signature hold, and if not, why?

The signature covers the method, the body (through its MD5), the Content-Type, the x-timestamp
and the path. When it does not hold, the usual culprits are tried one at a time, each by
recomputing the signature the way it would have been made: a body re-serialised by a framework,
another path (a proxy that adds or strips a prefix, a trailing slash, the query string), another
method (a redirect). Clock skew, a secret that is not base64 and another application's key are
checked directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .._runtime.callbacks import DEFAULT_MAX_AGE, parse_timestamp
from .._runtime.signing import decode_secret, parse_authorization, signature_matches

METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Captured:
    method: str
    url: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


@dataclass(frozen=True)
class Verdict:
    holds: bool
    cause: str  # "ok", "body", "path", "method", "skew", "secret", "key", "malformed", "unknown"
    explanation: str


def load(path: Path) -> Captured:
    """A captured request: JSON ``{"method", "url", "headers", "body"}`` or raw HTTP/1.1 text."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"{"):
        parsed = json.loads(data)
        body = parsed.get("body", "")
        raw = body.encode("utf-8") if isinstance(body, str) else json.dumps(body, separators=(",", ":")).encode()
        headers = {str(k).lower(): str(v) for k, v in (parsed.get("headers") or {}).items()}
        return Captured(str(parsed.get("method", "POST")).upper(), str(parsed["url"]), headers, raw)
    head, _, body = data.replace(b"\r\n", b"\n").partition(b"\n\n")
    request_line, *header_lines = head.decode("utf-8").split("\n")
    method, target, *_ = request_line.split()
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    url = target if "://" in target else f"http://{headers.get('host', 'localhost')}{target}"
    return Captured(method.upper(), url, headers, body)


def verify(
    captured: Captured, key: str, secret: str, now: datetime | None = None, max_age: timedelta = DEFAULT_MAX_AGE
) -> Verdict:
    try:
        secret_bytes = decode_secret(secret)
    except ValueError:
        return Verdict(
            False, "secret", "the secret is not base64: use the application secret exactly as Sinch shows it"
        )
    authorization = captured.headers.get("authorization")
    timestamp = captured.headers.get("x-timestamp")
    if not authorization or not timestamp:
        return Verdict(False, "malformed", "the request has no Authorization or no x-timestamp header: not signed")
    try:
        scheme, signed_key, signature = parse_authorization(authorization)
    except ValueError as exc:
        return Verdict(False, "malformed", str(exc))
    if scheme != "application":
        return Verdict(False, "malformed", f"the {scheme!r} scheme carries no signature to check")
    if signed_key != key:
        return Verdict(False, "key", f"signed for application key {signed_key!r}, not {key!r}")

    def signs(method: str, path: str, body: bytes) -> bool:
        content_type = captured.headers.get("content-type", "")
        return signature_matches(
            secret_bytes,
            signature,
            method=method,
            paths=(path,),
            body=body,
            content_type=content_type,
            timestamp=timestamp,
        )

    if not signs(captured.method, captured.path, captured.body):
        return _diagnose(captured, signs)
    try:
        signed_at = parse_timestamp(timestamp)
    except ValueError as exc:
        return Verdict(False, "malformed", f"x-timestamp: {exc}")
    age = (now or datetime.now(timezone.utc)) - signed_at
    if abs(age) > max_age:
        direction = "old" if age > timedelta(0) else "in the future"
        return Verdict(
            False,
            "skew",
            f"the signature holds, but x-timestamp is {abs(age).total_seconds():.0f} s {direction} "
            f"(more than {max_age.total_seconds():.0f} s): a replay, or a clock that is off",
        )
    return Verdict(True, "ok", "the signature holds and the timestamp is fresh")


def _diagnose(captured: Captured, signs: Any) -> Verdict:
    for body, what in _bodies(captured.body):
        if signs(captured.method, captured.path, body):
            return Verdict(False, "body", f"the body changed after signing: {what}")
    for path, what in _paths(captured):
        if signs(captured.method, path, captured.body):
            return Verdict(False, "path", f"signed for path {path!r}, received {captured.path!r}: {what}")
    for method in METHODS:
        if method != captured.method and signs(method, captured.path, captured.body):
            return Verdict(False, "method", f"signed as {method}, received as {captured.method} (a redirect?)")
    return Verdict(
        False,
        "body",
        "the signature does not match: the method, path and key look right, so the body (or its "
        "Content-Type) is not what was signed, or the secret belongs to another application",
    )


def _bodies(body: bytes) -> Iterator[tuple[bytes, str]]:
    """What the signed body may have been, if a framework re-wrote it."""
    try:
        document = json.loads(body)
    except ValueError:
        return
    for separators, what in (
        ((",", ":"), "it was re-serialised (compact JSON was signed)"),
        ((", ", ": "), "it was re-serialised (spaced JSON was signed)"),
    ):
        candidate = json.dumps(document, separators=separators, ensure_ascii=False).encode("utf-8")
        if candidate != body:
            yield candidate, what
    if body.endswith(b"\n"):
        yield body.rstrip(b"\n"), "a newline was added"


def _paths(captured: Captured) -> Iterator[tuple[str, str]]:
    path = captured.path
    if captured.query:
        yield f"{path}?{captured.query}", "the query string was signed (Sinch signs the path only)"
    yield (
        (path[:-1], "a trailing slash was added")
        if path.endswith("/")
        else (path + "/", "a trailing slash was removed")
    )
    if unquote(path) != path:
        yield unquote(path), "the path was percent-encoded on the way"
    segments = [segment for segment in path.split("/") if segment]
    for cut in range(1, len(segments)):
        yield "/" + "/".join(segments[cut:]), "a prefix was added to the path (a proxy or a mount point)"
        yield "/" + "/".join(segments[:-cut]), "a suffix was added to the path"
