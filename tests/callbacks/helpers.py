"""Shared by the callback tests: the published vector, signing like Sinch does, the spec's schemas."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from jsonschema import Draft202012Validator
from sinch_calling._runtime.signing import compute_signature, content_md5, decode_secret, string_to_sign, utc_timestamp

from tests.support import (
    CALLBACK_KEY,
    CALLBACK_SIGNATURE,
    CALLBACK_TIMESTAMP,
    spec_document,
    spec_pointer,
    spec_validator,
)

# Vector 1 of wire-protocol.md (Sinch's callback-signing example): tests.support's CALLBACK_* values,
# as a moment and as the headers Sinch sends.
VECTOR_TIME = datetime(2014, 9, 24, 10, 59, 41, tzinfo=timezone.utc)
VECTOR_HEADERS = {
    "Content-Type": "application/json",
    "x-timestamp": CALLBACK_TIMESTAMP,
    "Authorization": f"application {CALLBACK_KEY}:{CALLBACK_SIGNATURE}",
}

# Credentials of our own, with a secret long enough to be recognisable in any output.
KEY = "a1b2c3d4-0000-4000-8000-00000000cafe"
SECRET = base64.b64encode(b"the callback secret of the tests").decode()  # ends in one "="


def signature(
    body: bytes,
    *,
    secret: str = SECRET,
    method: str = "POST",
    path: str = "/sinch/callback",
    content_type: str = "application/json",
    timestamp: str,
) -> str:
    """The signature Sinch would send, computed with the runtime's own signing functions."""
    to_sign = string_to_sign(method, content_md5(body), content_type, timestamp, path)
    return compute_signature(decode_secret(secret), to_sign)


def signed_headers(
    body: bytes,
    *,
    key: str = KEY,
    secret: str = SECRET,
    method: str = "POST",
    path: str = "/sinch/callback",
    content_type: str | None = "application/json",
    timestamp: str | None = None,
    now: datetime | None = None,
    scheme: str = "application",
) -> dict[str, str]:
    """Headers of a callback signed like Sinch signs them (lower-case scheme, as Sinch sends it)."""
    timestamp = timestamp if timestamp is not None else utc_timestamp(now)
    sig = signature(body, secret=secret, method=method, path=path, content_type=content_type or "", timestamp=timestamp)
    headers = {"x-timestamp": timestamp, "Authorization": f"{scheme} {key}:{sig}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


spec = spec_document


def schema_validator(name: str) -> Draft202012Validator:
    """A Draft 2020-12 validator for ``#/components/schemas/<name>`` of the spec, refs resolved."""
    return spec_validator(spec_pointer("components", "schemas", name), check_formats=False)


def webhook_examples(event: str, part: str) -> dict[str, Any]:
    """The spec's examples of one webhook's request (``part="request"``) or 200 response."""
    operation = spec()["webhooks"][event]["post"]
    content = operation["requestBody"] if part == "request" else operation["responses"]["200"]
    examples: dict[str, Any] = content.get("content", {}).get("application/json", {}).get("examples", {})
    return {name: example["value"] for name, example in examples.items()}
