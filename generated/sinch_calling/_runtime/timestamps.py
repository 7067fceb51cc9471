"""Reading the timestamps Sinch and its SDKs write: ``x-timestamp`` headers and event fields.

One grammar for the client (callback verification, model fields) and the recorded server
(request authentication), so that both accept exactly the same values.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = ["parse_iso_datetime", "parse_timestamp"]

# Longest value read: anything longer is no timestamp, and is not worth a regular expression's time.
_MAX_LENGTH = 64
# Longest slice of a value quoted in an error message (messages end up in logs).
_MAX_QUOTED = 40
# ISO-8601 date and time to the second; any number of fractional digits (Sinch sends none or
# milliseconds, the old Python SDK microseconds and "+00:00"); "Z", an offset or no zone. ASCII digits.
_ISO = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ](?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})"
    r"(?:[.,](?P<fraction>[0-9]+))?"
    r"(?P<zone>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


def parse_iso_datetime(value: str) -> datetime:
    """An ISO-8601 date and time, with its offset kept (``Z`` is UTC); naive when it has no zone.

    Digits past microseconds are dropped. Raises ``ValueError`` quoting (the start of) the value otherwise.
    """
    match = _ISO.fullmatch(value) if len(value) <= _MAX_LENGTH else None
    if match is None:
        raise ValueError(f"{_quote(value)} is not an ISO-8601 date and time")
    if match["h"] != "24":  # newer Pythons' fromisoformat read 24:00 as the next midnight
        try:
            return datetime.fromisoformat(value)  # in C, and the same result wherever it succeeds
        except ValueError:
            pass  # "z"; on Python 3.10 also "Z" and fractions of other than 3 or 6 digits
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"]
    tz: timezone | None = None
    if zone in ("Z", "z"):
        tz = timezone.utc
    elif zone:
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        if offset >= timedelta(hours=24):
            raise ValueError(f"{_quote(value)} has an invalid UTC offset")
        tz = timezone(offset if zone[0] == "+" else -offset)
    try:
        year, month, day = (int(part) for part in match["date"].split("-"))
        return datetime(year, month, day, int(match["h"]), int(match["m"]), int(match["s"]), int(fraction), tz)
    except ValueError:
        raise ValueError(f"{_quote(value)} is not a valid date and time") from None


def parse_timestamp(value: str) -> datetime:
    """An ``x-timestamp`` as an aware ``datetime`` (its offset kept; no zone is UTC).

    Accepts ISO-8601 (see ``parse_iso_datetime``) and, as some HTTP clients send, an RFC 1123 date
    (``Fri, 27 Nov 2026 10:55:48 GMT``). Raises ``ValueError`` naming the value otherwise.
    """
    try:
        moment = parse_iso_datetime(value)
    except ValueError as exc:
        found = _http_date(value)
        if found is None:
            raise ValueError(f"x-timestamp {exc}") from None
        moment = found
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _http_date(value: str) -> datetime | None:
    if len(value) > _MAX_LENGTH:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a year of 20 digits
        return None


def _quote(value: str) -> str:
    """``repr`` of an untrusted value, cut short."""
    if len(value) > _MAX_QUOTED:
        return repr(value[: _MAX_QUOTED - 1] + "…")
    return repr(value)
