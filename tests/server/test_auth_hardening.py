"""Authentication refusals that must not leak: whether a key exists, repeated headers, the log.

Regressions of an adversarial pass: a request without ``x-timestamp`` got 40101 for a known
key but 40108 for an unknown one; a repeated ``Authorization`` header was silently collapsed
(the last one won); nothing said why a request was refused.
"""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from sinch_calling_server.pipeline import Pipeline

from .conftest import KEY, SECRET
from .test_auth import signed_headers

PATH = "/v1/configuration/numbers"
NOW = "2026-11-27T10:55:48Z"  # the fake clock's time
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def raw(app: Pipeline) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


def defect(name: str, key: str) -> dict[str, str]:
    headers = signed_headers("GET", PATH, timestamp=NOW, key=key)
    if name == "no x-timestamp":
        del headers["x-timestamp"]
    elif name == "stale x-timestamp":
        headers = signed_headers("GET", PATH, timestamp="2026-11-27T09:00:00Z", key=key)
    elif name == "unparsable x-timestamp":
        headers["x-timestamp"] = "yesterday"
    elif name == "wrong signature":
        headers["Authorization"] = f"Application {key}:{base64.b64encode(b'x' * 32).decode()}"
    return headers


@pytest.mark.parametrize(
    "name", ["no x-timestamp", "stale x-timestamp", "unparsable x-timestamp", "wrong signature", "none"]
)
async def test_an_unknown_key_gets_the_same_answer_as_a_known_one(raw: httpx.AsyncClient, name: str) -> None:
    unknown = await raw.get(PATH, headers=defect(name, UNKNOWN))
    assert unknown.status_code == 401
    if name == "none":
        return  # a valid request with an unknown key: refused, nothing to compare with
    known = await raw.get(PATH, headers=defect(name, KEY))
    assert known.status_code == 401
    assert (unknown.json()["errorCode"], unknown.json()["message"]) == (
        known.json()["errorCode"],
        known.json()["message"],
    ), name


async def test_basic_with_an_unknown_key_or_a_wrong_secret_looks_the_same(raw: httpx.AsyncClient) -> None:
    answers = set()
    for user, password in ((UNKNOWN, SECRET), (KEY, "d3Jvbmc=")):
        r = await raw.get(PATH, auth=httpx.BasicAuth(user, password))
        answers.add((r.status_code, r.json()["errorCode"], r.json()["message"]))
    assert answers == {(401, 40108, "Invalid credentials")}


async def test_a_repeated_authorization_header_is_refused(raw: httpx.AsyncClient) -> None:
    good = signed_headers("GET", PATH, timestamp=NOW)
    assert (await raw.get(PATH, headers=good)).status_code == 200
    other = signed_headers("GET", PATH, timestamp=NOW, key=UNKNOWN)
    for first in (good["Authorization"], other["Authorization"]):
        headers = [("Authorization", first), ("Authorization", good["Authorization"]), ("x-timestamp", NOW)]
        r = await raw.get(PATH, headers=headers)
        assert (r.status_code, r.json()["errorCode"]) == (401, 40100)
    basic = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    r = await raw.get(PATH, headers=[("Authorization", basic), ("authorization", basic)])
    assert (r.status_code, r.json()["errorCode"]) == (401, 40100)


async def test_a_repeated_x_timestamp_header_is_refused(raw: httpx.AsyncClient) -> None:
    good = signed_headers("GET", PATH, timestamp=NOW)
    headers = [
        ("Authorization", good["Authorization"]),
        ("x-timestamp", "2026-11-27T10:50:00Z"),
        ("X-Timestamp", NOW),
        ("Content-Type", good["Content-Type"]),
    ]
    r = await raw.get(PATH, headers=headers)
    assert (r.status_code, r.json()["errorCode"]) == (401, 40101)
    # Other headers may repeat.
    r = await raw.get(PATH, headers=[*good.items(), ("Accept", "application/json"), ("Accept", "*/*")])
    assert r.status_code == 200


async def test_each_refusal_is_logged_with_its_reason_never_the_secret(
    raw: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sinch_calling_server")
    await raw.get(PATH, headers=defect("no x-timestamp", KEY))
    await raw.get(PATH, headers=defect("stale x-timestamp", KEY))
    await raw.get(PATH, headers=defect("none", UNKNOWN))
    wrong = defect("wrong signature", KEY)
    await raw.get(PATH, headers=wrong)
    await raw.get(PATH, auth=httpx.BasicAuth(KEY, "d3Jvbmc="))
    await raw.get(PATH)
    records = [r for r in caplog.records if r.name == "sinch_calling_server.auth"]
    assert all(r.levelno == logging.INFO for r in records)
    text = "\n".join(r.getMessage() for r in records)
    for reason in (
        "no x-timestamp header",
        "off the server's clock",
        f"unknown application key '{UNKNOWN}'",
        f"signature mismatch for application key '{KEY}'",
        f"Basic: wrong secret for application key '{KEY}'",
        "no Authorization header",
    ):
        assert reason in text, reason
    assert f"GET {PATH}" in text
    signature = wrong["Authorization"].rpartition(":")[2]
    for secret in (SECRET, signature, "d3Jvbmc=", base64.b64encode(f"{KEY}:d3Jvbmc=".encode()).decode()):
        assert secret not in text
