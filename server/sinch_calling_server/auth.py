"""Who is calling: signed (``Application key:signature`` + ``x-timestamp``) or Basic requests.

The signature check and the timestamp grammar are the client's own
(``sinch_calling._runtime.signing`` and ``.timestamps``); this module only holds the server's
policy: which applications exist, which schemes an operation accepts, and how old a timestamp may be.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from sinch_calling._runtime.signing import parse_authorization, signature_matches
from sinch_calling._runtime.timestamps import parse_timestamp

from . import errors
from .errors import ApiError, clip
from .settings import DEFAULT_MAX_SKEW, Application

__all__ = ["Authenticator", "Caller", "demo_application", "timestamp_seconds"]

log = logging.getLogger("sinch_calling_server.auth")


@dataclass(frozen=True)
class Caller:
    scheme: str  # "application", "basic" or "none"
    key: str | None  # the application key that authenticated


_ANONYMOUS = Caller("none", None)  # the caller of an operation that needs no authentication


def demo_application() -> Application:
    return Application(secrets.token_hex(16), base64.b64encode(secrets.token_bytes(16)).decode("ascii"))


def timestamp_seconds(value: str) -> float | None:
    """Epoch seconds of an ``x-timestamp`` value (surrounding blanks ignored), or None if it is none."""
    try:
        return parse_timestamp(value.strip()).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


class Authenticator:
    """Checks the Authorization header of a request against the known applications.

    The checks run in one fixed order, and none before the last depends on whether the
    application key exists, so that a refusal never tells an unknown key from a known one:

    1. an operation without security: anonymous;
    2. a repeated ``Authorization`` (40100) or ``x-timestamp`` (40101) header: 401;
    3. no ``Authorization``: anonymous if the operation allows it, else 401 (40100);
    4. a scheme the operation does not accept: 403 (40301);
    5. signed: a malformed ``<key>:<signature>`` (40108), no ``x-timestamp`` (40101), an
       unparsable or stale ``x-timestamp`` (40108), then the key and the signature together
       (40108, the same message and the same HMAC work for an unknown key as for a wrong signature);
       Basic: malformed credentials, an unknown key or a wrong secret (40108).

    Each refusal is logged at ``info`` on ``sinch_calling_server.auth`` with the check that failed
    (and the key, which is not a secret); never the secret, the signature or the Basic credentials.

    Sinch's protocol lets a signed request be sent again, unchanged, while its ``x-timestamp`` is
    within the allowed skew. ``replay_guard`` refuses such a repeat (40108): each accepted
    signature is remembered until its timestamp leaves the window. Basic auth has nothing
    per-request to remember, so it is not guarded.
    """

    def __init__(
        self,
        applications: Iterable[Application],
        clock: Callable[[], float],
        max_skew: float = DEFAULT_MAX_SKEW,
        replay_guard: bool = False,
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
        self._seen: dict[tuple[str, str], float] | None = {} if replay_guard else None  # signature -> expiry

    def authenticate(
        self,
        schemes: frozenset[str],
        method: str,
        paths: tuple[str, ...],
        headers: Mapping[str, str],
        body: bytes,
        repeated: Collection[str] = (),
    ) -> Caller:
        """The caller, or ApiError 401 (40100/40101/40108) or 403 (40301).

        ``paths`` are the forms of the request path a client may have signed (as sent, first;
        the pipeline adds the percent-decoded form only where it names the same resource);
        ``headers`` have lower-case names; ``repeated`` names the headers that came more than once.
        """
        if not schemes:
            return _ANONYMOUS
        where = f"{method} {clip(paths[0] if paths else '')}"
        if "authorization" in repeated:
            raise _refuse(where, "repeated Authorization header", 401, errors.AUTHORIZATION_HEADER,
                          "Repeated Authorization header")  # fmt: skip
        if "x-timestamp" in repeated:
            raise _refuse(where, "repeated x-timestamp header", 401, errors.TIMESTAMP_HEADER,
                          "Repeated x-timestamp header")  # fmt: skip
        header = headers.get("authorization")
        if header is None or not header.strip():
            if "none" in schemes:
                return _ANONYMOUS
            raise _refuse(where, "no Authorization header", 401, errors.AUTHORIZATION_HEADER,
                          "Missing Authorization header")  # fmt: skip
        scheme_word = header.strip().partition(" ")[0].lower()
        if scheme_word == "application" and "application" in schemes:
            return self._signed(where, method, paths, header, headers, body)
        if scheme_word == "basic" and "basic" in schemes:
            return self._basic(where, header)
        raise _refuse(where, f"scheme {clip(scheme_word)!r} not accepted here", 403, errors.INVALID_SCHEME,
                      "Invalid authorization scheme for calling the method")  # fmt: skip

    def _basic(self, where: str, header: str) -> Caller:
        encoded = header.strip().partition(" ")[2].strip()
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _invalid(where, "Basic credentials are not base64 UTF-8") from None
        key, sep, secret = decoded.partition(":")
        if not sep:
            raise _invalid(where, "Basic credentials have no ':'")
        expected = self._plain.get(key)
        # The same comparison for an unknown key, against a value no secret can equal.
        matches = hmac.compare_digest((expected or _NO_SECRET).encode(), secret.encode())
        if expected is None:
            raise _invalid(where, f"Basic: unknown application key {clip(key)!r}")
        if not matches:
            raise _invalid(where, f"Basic: wrong secret for application key {clip(key)!r}")
        return Caller("basic", key)

    def _signed(
        self, where: str, method: str, paths: tuple[str, ...], header: str, headers: Mapping[str, str], body: bytes
    ) -> Caller:
        try:
            _, key, signature = parse_authorization(header)
        except ValueError:
            raise _invalid(where, "malformed Application header (expected '<key>:<signature>')") from None
        stamp = headers.get("x-timestamp")
        if stamp is None:
            raise _refuse(where, "no x-timestamp header", 401, errors.TIMESTAMP_HEADER, "Missing x-timestamp header")
        moment = timestamp_seconds(stamp)
        if moment is None:
            raise _invalid(where, f"unparsable x-timestamp {clip(stamp)!r}", _STALE)
        skew = self._clock() - moment
        if abs(skew) > self.max_skew:
            raise _invalid(where, f"x-timestamp {skew:+.0f} s off the server's clock (max {self.max_skew:g})", _STALE)
        # Every candidate path is checked, and an unknown key costs the same HMAC work as a known
        # one, with a secret nobody has: the time taken tells nothing.
        secret = self._secrets.get(key)
        matched = signature_matches(
            secret if secret is not None else _UNKNOWN_SECRET,
            signature.strip(),
            method=method,
            paths=paths,
            body=body,
            content_type=headers.get("content-type", ""),
            timestamp=stamp,
        )
        if secret is None:
            raise _invalid(where, f"unknown application key {clip(key)!r}")
        if not matched:
            raise _invalid(where, f"signature mismatch for application key {clip(key)!r}")
        if self._seen is not None:
            self._remember(where, key, signature, moment)
        return self._callers[key]

    def _remember(self, where: str, key: str, signature: str, moment: float) -> None:
        """Refuse a signature seen before (a replay); remember this one while it can be replayed."""
        seen = self._seen
        assert seen is not None
        now = self._clock()
        if len(seen) >= _PRUNE_AT:
            for stale in [entry for entry, expiry in seen.items() if expiry < now]:
                del seen[stale]
        entry = (key, signature.strip())
        if seen.get(entry, -1.0) >= now:
            raise _invalid(where, f"replayed signature for application key {clip(key)!r}")
        seen[entry] = moment + self.max_skew


_STALE = "Invalid credentials: x-timestamp is invalid or stale"
_PRUNE_AT = 4096  # remembered signatures before the expired ones are dropped
_UNKNOWN_SECRET = secrets.token_bytes(32)  # signs for keys that do not exist: never matches in practice
_NO_SECRET = "\x00" + secrets.token_hex(16)  # compared with a Basic secret for an unknown key


def _refuse(where: str, reason: str, status: int, code: int, message: str) -> ApiError:
    """The refusal, logged with the check that failed (for the operator, never for the client)."""
    log.info("%d %s: %s", status, where, reason)
    return ApiError(status, code, message)


def _invalid(where: str, reason: str, message: str = "Invalid credentials") -> ApiError:
    return _refuse(where, reason, 401, errors.INVALID_CREDENTIALS, message)
