"""Receiving Sinch callbacks: verify a callback request, decode its body, serialise SVAML answers.

Sinch signs the callbacks it sends to an application backend (ICE, ACE, DiCE, PIE, Notify) like
any API request (see ``signing.py``), with the path of the callback URL. ``verify_callback``
checks such a request step by step and names the failed check in ``CallbackVerificationError``:

===================  ======================================================================
``check``            refused because
===================  ======================================================================
``authorization``    the ``Authorization`` header is missing, repeated or malformed
``scheme``           its scheme is not ``Application`` (any case)
``application_key``  it names another application
``timestamp``        ``x-timestamp`` is missing, repeated or not a timestamp (ISO-8601, or an
                     RFC 1123 date: ``timestamps.parse_timestamp``), or it is further
                     from ``now`` than ``max_age`` (too old: a replay; too new: a bad clock)
``signature``        the HMAC does not match the method, path, body and headers received
===================  ======================================================================

The freshness check comes after the signature check, so "timestamp" is reported only for a
request Sinch really signed. Official SDKs neither compare in constant time nor check the age;
this module does both. Messages never contain the secret or the expected signature.

``parse_callback`` is the spec-independent half of ``sinch_calling.callbacks.parse_event``: it
decodes the body and dispatches on the discriminator with the generated parsers it is given.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, TypeAlias, TypeVar

from .exceptions import CallbackVerificationError, SinchCallingError
from .parsing import FieldError, parse_discriminated
from .signing import decode_secret, parse_authorization, signature_matches
from .timestamps import parse_timestamp

__all__ = [
    "DEFAULT_MAX_AGE",
    "CallbackParseError",
    "CallbackVerificationError",
    "HeadersLike",
    "UnknownEventError",
    "decode_body",
    "parse_callback",
    "parse_timestamp",
    "to_json",
    "verify_callback",
]

T = TypeVar("T")

#: How far ``x-timestamp`` may be from the receiver's clock, either way, by default.
DEFAULT_MAX_AGE = timedelta(minutes=15)

#: Request headers as frameworks hand them over: any ``Mapping[str, str]`` (a dict,
#: ``httpx.Headers``, Starlette's ``Headers``) or (name, value) pairs, as ``str`` or as the
#: ``bytes`` of an ASGI scope.
HeadersLike: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]

_SCHEME = "application"
_SIGNED_HEADERS = ("authorization", "x-timestamp", "content-type")
# Longest slice of a received value quoted in an error message.
_MAX_QUOTED = 80


def verify_callback(
    method: str,
    path: str,
    headers: HeadersLike,
    body: bytes,
    application_key: str,
    application_secret: str,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    now: datetime | None = None,
) -> None:
    """Check that a callback request comes from Sinch for this application, and is fresh.

    Args:
        method: The request method as received (Sinch sends ``POST``).
        path: The request path as received, with its leading slash (a query string is ignored).
            Behind a proxy that rewrites paths, pass the path of the callback URL you configured.
        headers: The request headers as received; names in any case.
        body: The raw body bytes, before any JSON decoding.
        application_key: Your application key.
        application_secret: Your application secret (base64, with or without ``=`` padding).
        max_age: The largest allowed distance between ``x-timestamp`` and ``now``, both ways;
            ``None`` turns the freshness check off.
        now: The current time (for tests); a naive value is taken as UTC.

    Raises:
        CallbackVerificationError: A check failed; ``check`` names it (see the module docstring).
        ValueError: ``application_secret`` is not base64, or ``max_age`` is negative: a
            configuration error, not a refused callback.
        TypeError: ``body`` is not bytes (decoded text may not be the bytes Sinch signed).
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be the raw request bytes, not {type(body).__name__}")
    if max_age is not None and max_age < timedelta(0):
        raise ValueError("max_age must not be negative")
    secret = decode_secret(application_secret)  # ValueError that never echoes the secret
    received = _collect_headers(headers)

    authorization = _single(received, "authorization", "authorization", "Authorization")
    scheme = authorization.strip().partition(" ")[0]
    if scheme and scheme.lower() != _SCHEME:  # e.g. Basic: say so, rather than "malformed"
        raise CallbackVerificationError("scheme", f"expected the Application scheme, got {_quote(scheme)}")
    try:
        _, key, signature = parse_authorization(authorization)
    except ValueError as exc:
        raise CallbackVerificationError("authorization", str(exc)) from None
    if not hmac.compare_digest(key.encode("utf-8"), application_key.encode("utf-8")):
        raise CallbackVerificationError(
            "application_key", f"signed for application key {_quote(key)}, not {_quote(application_key)}"
        )

    timestamp = _single(received, "x-timestamp", "timestamp", "x-timestamp")
    try:
        signed_at = parse_timestamp(timestamp)
    except ValueError as exc:
        raise CallbackVerificationError("timestamp", str(exc)) from None

    content_types = received.get("content-type", [])
    if len(content_types) > 1:
        raise CallbackVerificationError("signature", "the Content-Type header is repeated")
    if not signature_matches(
        secret,
        signature,
        method=method,
        paths=(path.split("?", 1)[0],),  # the query is not signed
        body=bytes(body),
        content_type=content_types[0] if content_types else "",
        timestamp=timestamp,
    ):
        raise CallbackVerificationError(
            "signature",
            "the signature does not match this method, path, body, Content-Type and x-timestamp "
            "(were they changed on the way, or is the secret wrong?)",
        )

    if max_age is not None:
        _check_age(signed_at, now, max_age)


def _collect_headers(headers: HeadersLike) -> dict[str, list[str]]:
    """The signed headers, by lower-cased name, with every value received (to spot repeats)."""
    pairs: Iterable[tuple[str | bytes, str | bytes]]
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    collected: dict[str, list[str]] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        name = name.lower()
        if name in _SIGNED_HEADERS:
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            collected.setdefault(name, []).append(value)
    return collected


def _single(received: dict[str, list[str]], name: str, check: str, label: str) -> str:
    values = received.get(name, [])
    if not values:
        raise CallbackVerificationError(check, f"the {label} header is missing")
    if len(values) > 1:
        raise CallbackVerificationError(check, f"the {label} header is repeated")
    return values[0]


def _check_age(signed_at: datetime, now: datetime | None, max_age: timedelta) -> None:
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    age = now - signed_at
    if age > max_age:
        raise CallbackVerificationError(
            "timestamp", f"x-timestamp is {_seconds(age)} old, more than the {_seconds(max_age)} allowed"
        )
    if -age > max_age:
        raise CallbackVerificationError(
            "timestamp", f"x-timestamp is {_seconds(-age)} in the future, more than the {_seconds(max_age)} allowed"
        )


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():.0f} s"


def _quote(value: str) -> str:
    """``repr`` of an untrusted value, cut short: error messages end up in logs."""
    if len(value) > _MAX_QUOTED:
        return repr(value[: _MAX_QUOTED - 1] + "…")
    return repr(value)


class CallbackParseError(SinchCallingError, ValueError):
    """A callback body that is not a valid event; ``field`` names the offending field.

    ``field`` is ``"<body>"`` when the body is not a JSON object at all.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UnknownEventError(CallbackParseError):
    """A callback whose ``event`` this version of the client does not know (or that has none).

    ``event`` is the value received (``None`` when absent), ``known`` the values it knows. Sinch
    may add events: a backend usually acknowledges these with an empty 200 rather than failing.
    """

    def __init__(self, field: str, event: object, known: Iterable[str], union: str) -> None:
        self.event = event
        self.known = tuple(sorted(known))
        expected = ", ".join(self.known)
        if event is None:
            message = f"the callback has no {field!r}; expected one of: {expected}"
        else:
            shown = _quote(event) if isinstance(event, str) else f"{event!r}"
            message = f"unknown {union} {field} {shown}; expected one of: {expected}"
        super().__init__(field, message)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_body(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> object:
    """The JSON value of a callback body (bytes in UTF-8, UTF-16 or UTF-32, or text).

    A ``Mapping`` is returned as it is (a body some framework decoded already). Raises
    ``CallbackParseError`` (field ``"<body>"``) for anything that is not strict JSON.
    """
    if isinstance(body, Mapping):
        return body
    if isinstance(body, (bytearray, memoryview)):
        body = bytes(body)
    if not isinstance(body, (bytes, str)):
        raise TypeError(f"a callback body is bytes, str or a mapping, not {type(body).__name__}")
    try:
        return json.loads(body, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise CallbackParseError(
            "<body>", f"the callback body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise CallbackParseError("<body>", "the callback body is not valid UTF-8 JSON") from None
    except (ValueError, RecursionError) as exc:
        raise CallbackParseError("<body>", f"the callback body is not valid JSON: {exc}") from None


def parse_callback(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    field: str,
    parsers: Mapping[str, Callable[[Mapping[str, Any]], T]],
    union: str,
) -> T:
    """Decode ``body`` and parse it with the parser that its ``field`` names.

    ``parsers`` maps each discriminator value to a generated model's ``from_dict``; ``union``
    names the union in messages. Unknown fields and unknown enum values are kept by the models.

    Raises:
        UnknownEventError: ``field`` is absent or names no parser.
        CallbackParseError: The body is not JSON, not an object, or a field does not match the spec.
    """
    data = decode_body(body)
    if not isinstance(data, Mapping):
        raise CallbackParseError("<body>", f"a callback body is a JSON object, not {_json_type(data)}")
    tag = data.get(field)
    if not isinstance(tag, str) or tag not in parsers:
        raise UnknownEventError(field, tag, parsers, union)
    try:
        return parse_discriminated(data, field, parsers, union)
    except FieldError as exc:
        raise CallbackParseError(exc.field, f"{tag} event: {exc}") from exc
    except KeyError as exc:
        missing = str(exc.args[0]) if exc.args else "<unknown>"
        raise CallbackParseError(missing, f"{tag} event: required field {missing!r} is missing") from exc
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise CallbackParseError("<body>", f"{tag} event does not match the spec: {exc}") from exc


def _json_type(value: object) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class _Serialisable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def to_json(document: _Serialisable) -> str:
    """Compact JSON for a SVAML answer (or any generated model), as Sinch expects it.

    Exactly the model's ``to_dict()``: spec (camelCase) names, absent fields left out, no nulls.
    """
    return json.dumps(document.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
