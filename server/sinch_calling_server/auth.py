"""Who is calling: signed (``Application key:signature`` + ``x-timestamp``) or Basic requests.

The signature arithmetic is the SDK's own (``sinch_calling._runtime.signing``); this module
only holds the server's policy: which applications exist, which schemes an operation
accepts, and how old a timestamp may be.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from sinch_calling._runtime.signing import (
    compute_signature,
    content_md5,
    decode_secret,
    parse_authorization,
    string_to_sign,
)

from . import errors
from .errors import ApiError

__all__ = ["Application", "Authenticator", "Caller", "demo_application", "parse_app_option", "parse_timestamp"]

DEFAULT_MAX_SKEW = 15 * 60.0


@dataclass(frozen=True)
class Application:
    key: str
    secret: str  # base64, as the dashboard shows it

    @property
    def secret_bytes(self) -> bytes:
        return decode_secret(self.secret)


@dataclass(frozen=True)
class Caller:
    scheme: str  # "application", "basic" or "none"
    key: str | None  # the application key that authenticated


_ANONYMOUS = Caller("none", None)  # the caller of an operation that needs no authentication


def parse_app_option(value: str) -> Application:
    """``KEY:SECRET`` from the command line or a config file; the secret must be base64."""
    key, sep, secret = value.partition(":")
    if not sep or not key.strip() or not secret.strip():
        raise ValueError("expected KEY:SECRET")
    decode_secret(secret)  # raises ValueError without echoing it
    return Application(key.strip(), secret.strip())


def demo_application() -> Application:
    return Application(secrets.token_hex(16), base64.b64encode(secrets.token_bytes(16)).decode("ascii"))


# Date, time, optional fraction (any length), optional zone: what real clients put in x-timestamp.
_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s*(Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$"
)


def parse_timestamp(value: str) -> float | None:
    """Epoch seconds of an ``x-timestamp`` value, or None if it is not a timestamp.

    Accepts what clients send: ISO-8601 with ``Z`` or an offset, any fraction length
    (``2026-11-27T10:55:48.734574+00:00``, ``2023-11-22T09:10:11.999Z``); naive values are
    taken as UTC; RFC 1123 dates too.
    """
    text = value.strip()
    if not text or len(text) > 64:
        return None
    try:
        moment = datetime.fromisoformat(text)  # Python 3.11+: every ISO form clients send, fast
    except ValueError:
        moment = None
    match = _ISO.match(text) if moment is None else None
    try:
        if moment is not None:
            pass
        elif match:
            # Normalised by hand: Python 3.10's fromisoformat takes neither "Z" nor 1-5 or 7+ digit fractions.
            date, clock, fraction, zone = match.groups()
            zone = "+00:00" if zone in (None, "Z", "z") else zone
            if len(zone) == 3:
                zone += ":00"
            elif ":" not in zone:
                zone = f"{zone[:3]}:{zone[3:]}"
            micros = f".{(fraction or '0')[:6].ljust(6, '0')}"
            moment = datetime.fromisoformat(f"{date}T{clock}{micros}{zone}")
        else:
            moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


class Authenticator:
    """Checks the Authorization header of a request against the known applications."""

    def __init__(
        self,
        applications: Iterable[Application],
        clock: Callable[[], float],
        max_skew: float = DEFAULT_MAX_SKEW,
    ) -> None:
        self._secrets: dict[str, bytes] = {}
        self._plain: dict[str, str] = {}
        self._callers: dict[str, Caller] = {}  # one immutable Caller per application, not one per request
        for app in applications:
            self._secrets[app.key] = app.secret_bytes
            self._plain[app.key] = app.secret
            self._callers[app.key] = Caller("application", app.key)
        self._clock = clock
        self.max_skew = max_skew

    def authenticate(
        self,
        schemes: frozenset[str],
        method: str,
        paths: tuple[str, ...],
        headers: Mapping[str, str],
        body: bytes,
    ) -> Caller:
        """The caller, or ApiError 401 (40100/40101/40108) or 403 (40301).

        ``paths`` are the forms of the request path a client may have signed (as sent, and
        percent-decoded); ``headers`` have lower-case names.
        """
        if not schemes:
            return _ANONYMOUS
        header = headers.get("authorization")
        if header is None or not header.strip():
            if "none" in schemes:
                return _ANONYMOUS
            raise ApiError(401, errors.AUTHORIZATION_HEADER, "Missing Authorization header")
        scheme_word = header.strip().partition(" ")[0].lower()
        if scheme_word == "application" and "application" in schemes:
            return self._signed(method, paths, header, headers, body)
        if scheme_word == "basic" and "basic" in schemes:
            return self._basic(header)
        raise ApiError(403, errors.INVALID_SCHEME, "Invalid authorization scheme for calling the method")

    def _basic(self, header: str) -> Caller:
        encoded = header.strip().partition(" ")[2].strip()
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ApiError(401, errors.INVALID_CREDENTIALS, "Invalid credentials") from None
        key, sep, secret = decoded.partition(":")
        expected = self._plain.get(key)
        if not sep or expected is None or not hmac.compare_digest(expected.encode(), secret.encode()):
            raise ApiError(401, errors.INVALID_CREDENTIALS, "Invalid credentials")
        return Caller("basic", key)

    def _signed(
        self, method: str, paths: tuple[str, ...], header: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        try:
            _, key, signature = parse_authorization(header)
        except ValueError:
            raise ApiError(401, errors.INVALID_CREDENTIALS, "Invalid credentials") from None
        secret = self._secrets.get(key)
        if secret is None:
            raise ApiError(401, errors.INVALID_CREDENTIALS, "Invalid credentials")
        stamp = headers.get("x-timestamp")
        if stamp is None:
            raise ApiError(401, errors.TIMESTAMP_HEADER, "Missing x-timestamp header")
        moment = parse_timestamp(stamp)
        if moment is None or abs(self._clock() - moment) > self.max_skew:
            raise ApiError(401, errors.INVALID_CREDENTIALS, "Invalid credentials: x-timestamp is invalid or stale")
        # The runtime's arithmetic, not request_signature(): the body's MD5 once for every candidate
        # path, and each path signed exactly as given (a percent-decoded path may contain a '?').
        md5 = content_md5(body)
        content_type = headers.get("content-type", "")
        given = signature.strip().encode("utf-8", "replace")
        for path in paths:
            expected = compute_signature(secret, string_to_sign(method, md5, content_type, stamp, path))
            if hmac.compare_digest(expected.encode("ascii"), given):
                return self._callers[key]
        raise ApiError(401, errors.INVALID_CREDENTIALS, "Invalid credentials")
