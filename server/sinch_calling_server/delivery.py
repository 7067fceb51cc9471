"""Callback delivery: a clock-driven job queue, signed HTTP POSTs with fallback, and inspection.

Jobs (``JobQueue``) live in the store next to the calls they belong to, one per (call, kind),
each with the simulated time it is due. ``CallbackDispatcher`` runs the due ones:

- on every request (``poke``, after the response is sent: a task, never on the request path),
- in a background task polling the store when the server runs on the real clock,
- and on demand: ``await dispatcher.advance(seconds)`` / ``flush()``, or ``POST
  /_sinch/advance?seconds=N`` when test controls are on. These return once every job due by
  then, and every job that made due, has been delivered and applied: deterministic tests.

An event is POSTed, signed like Sinch signs callbacks (``Authorization: Application key:sig``,
``x-timestamp``, over the exact body and the callback URL's path), to the primary URL; on a
connection error, a timeout (``timeout`` seconds, whole exchange) or a non-2xx status the
fallback URL gets it, signed afresh. Every attempt is logged (URL without credentials or
query values, never headers) and kept in the store (the last ``KEEP`` of them), listed by
``GET /_sinch/deliveries`` when test controls are on (the pipeline refuses every ``/_sinch/...``
path otherwise, and asks for an application's credentials). Nothing a backend does can fail an
API request.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import math
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx
from sinch_calling._runtime.signing import sign_request, utc_timestamp

from . import errors
from .callflow import ANSWER_SCHEMAS, INVALID, Outgoing
from .clock import SimulatedClock, iso
from .errors import ApiError
from .jobs import JobQueue
from .jsonio import dumps, parse_json
from .messages import Reply
from .settings import DEFAULT_CALLBACK_TIMEOUT
from .simulation import Simulation
from .spec import Validator
from .store import Document, Store

__all__ = ["CallbackDispatcher"]

log = logging.getLogger("sinch_calling_server.callbacks")

PREFIX = "/_sinch/"
KEEP = 1000  # delivery records kept in the store
MAX_ANSWER = 64 * 1024  # bytes of a backend's answer that are read
MAX_ADVANCE = 31 * 24 * 3600.0  # seconds one advance may move the simulation
MAX_SIMULATED_TIME = 221_845_392_000.0  # 9000-01-01: far from where datetime overflows
TICK = 0.2  # seconds between background polls on the real clock
USER_AGENT = "sinch-calling-server (callback delivery)"
_EVENT_SCHEMAS = {"ice": "IceEvent", "ace": "AceEvent", "dice": "DiceEvent", "pie": "PieEvent", "notify": "NotifyEvent"}


LOOPBACK = "loopback"
ANY_HOST = "*"


def host_allowed(url: str, allowed: frozenset[str]) -> bool:
    """Whether callbacks may go to ``url``'s host.

    ``allowed`` holds host names or addresses, ``"loopback"`` (localhost, 127.0.0.0/8, ::1: the
    default, so that a stand-in server never calls out of the machine unless told to) or ``"*"``.
    """
    if ANY_HOST in allowed:
        return True
    host = (httpx.URL(url).host or "").lower()
    if host in allowed:
        return True
    if LOOPBACK in allowed:
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return False


def safe_url(url: str) -> str:
    """The URL for logs: no user info, query values replaced."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        query = "&".join(f"{name}=..." for name, _ in parse_qsl(parts.query, keep_blank_values=True))
        return urlunsplit((parts.scheme, host, parts.path, query, ""))
    except ValueError:
        return "<unparsable URL>"


class CallbackDispatcher:
    """Runs due jobs, delivers their events over HTTP, and answers ``/_sinch/...``."""

    prefix = PREFIX

    def __init__(
        self,
        store: Store,
        jobs: JobQueue,
        simulation: Simulation | None,
        secrets: Mapping[str, bytes],
        clock: SimulatedClock,
        *,
        timeout: float = DEFAULT_CALLBACK_TIMEOUT,
        test_controls: bool = False,
        background: bool = False,
        schemas: Mapping[str, Validator] | None = None,
        violations: list[str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        allowed_hosts: frozenset[str] = frozenset({LOOPBACK}),
    ) -> None:
        self.store = store
        self.allowed_hosts = allowed_hosts
        self.jobs = jobs
        self.simulation = simulation  # None in replay and record modes: no calls, no callbacks
        self.flow = simulation.flow if simulation is not None else None
        self.secrets = dict(secrets)
        self.clock = clock
        self.wall_clock = clock.base  # signs x-timestamp: the clock requests are judged by, not advanced
        self.timeout = float(timeout)
        self.test_controls = test_controls
        self.background = background
        self.schemas = schemas or {}
        self.violations = violations  # event bodies that break the spec's webhook schemas (tests)
        self.transport = transport
        self._runner: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._reported = self._last_seq()  # flush() returns the records after this one

    # -- scheduling ------------------------------------------------------------------

    def poke(self) -> None:
        """Called after each request: start a delivery run if something is due. Never blocks."""
        due = self.jobs.next_due
        if due is None:
            return  # the usual case: no callbacks in play (a lifespan startup runs the ticker anyway)
        if self.background and not _alive(self._ticker):
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        if self.clock() < due:
            return
        if _alive(self._runner):
            return  # the running one keeps claiming until nothing is due
        self._runner = asyncio.get_running_loop().create_task(self._run())

    async def flush(self) -> list[Document]:
        """Deliver everything due now, and whatever that makes due.

        Returns the delivery records made since the previous ``flush`` (including those that
        requests triggered in between), so a test sees each attempt exactly once.
        """
        while True:
            runner = self._runner if _alive(self._runner) else None
            if runner is not None:
                try:
                    await asyncio.shield(runner)
                except Exception:
                    log.exception("callback scheduler")
                    break
                continue
            self.jobs.refresh()
            due = self.jobs.next_due
            if due is None or self.clock() < due:
                break
            self._runner = asyncio.get_running_loop().create_task(self._run())
        records = self.deliveries(after=self._reported)
        self._reported = max([self._reported, *(int(r["seq"]) for r in records)])
        return records

    async def advance(self, seconds: float = 0.0) -> list[Document]:
        """Move the simulation's clock forward (0 to ``MAX_ADVANCE`` seconds at a time), then ``flush``."""
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_ADVANCE:
            raise ValueError(f"seconds must be a number from 0 to {MAX_ADVANCE:.0f}")
        if self.clock() + seconds > MAX_SIMULATED_TIME:
            raise ValueError("the simulation cannot go past the year 9000")
        self.clock.offset += seconds
        return await self.flush()

    async def startup(self) -> None:
        if self.background and not _alive(self._ticker):
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def shutdown(self) -> None:
        for task in (self._ticker, self._runner):
            if _alive(task):
                assert task is not None
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._ticker = self._runner = None

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                self.jobs.refresh()  # jobs other worker processes scheduled
                self.poke()
            except Exception:
                log.exception("callback scheduler")

    async def _run(self) -> None:
        try:
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                trust_env=False,
                transport=self.transport,
            ) as client:
                while True:
                    batch = self.jobs.claim_due(self.clock())
                    if not batch:
                        break
                    groups: dict[str, list[Document]] = {}
                    for job in batch:
                        groups.setdefault(str(job.get("callId")), []).append(job)
                    await asyncio.gather(*(self._run_group(client, jobs) for jobs in groups.values()))
        finally:
            self.jobs.refresh()

    async def _run_group(self, client: httpx.AsyncClient, jobs: list[Document]) -> None:
        """One call's jobs, in order: its events arrive in the order they happened."""
        for job in jobs:
            try:
                await self._run_job(client, job)
            except Exception:
                log.exception("callback job %s for call %s failed", job.get("kind"), job.get("callId"))

    async def _run_job(self, client: httpx.AsyncClient, job: Document) -> None:
        if self.flow is None:
            return
        with self.store.transaction():
            outgoing = self.flow.prepare(job)
        if outgoing is None:
            return
        self._check_event(outgoing)
        delivered, answer = await self._deliver(client, outgoing)
        with self.store.transaction():
            self.flow.complete(job, outgoing, delivered, answer)

    def _check_event(self, outgoing: Outgoing) -> None:
        if self.violations is None:
            return
        validator = self.schemas.get(_EVENT_SCHEMAS.get(outgoing.event, ""))
        if validator is not None and not validator.is_valid(outgoing.body):
            problem = validator.first_problem(outgoing.body)
            detail = f"{problem.path}: {problem.message}" if problem else "invalid"
            message = f"{outgoing.event} event violates the spec ({detail})"
            log.error("%s", message)
            self.violations.append(message)

    # -- HTTP ------------------------------------------------------------------------

    async def _deliver(self, client: httpx.AsyncClient, outgoing: Outgoing) -> tuple[bool, Any]:
        """POST to each target in turn until one answers 2xx: (delivered, parsed answer)."""
        if not outgoing.targets:
            return False, None
        secret = self.secrets.get(outgoing.app_key)
        if secret is None:
            log.warning("no secret for application %s: cannot sign its callbacks", outgoing.app_key)
            return False, None
        body = dumps(outgoing.body)
        for attempt, (role, url) in enumerate(outgoing.targets, 1):
            ok, answer = await self._attempt(client, outgoing, body, role, url, attempt, secret)
            if ok:
                return True, answer
        return False, None

    async def _attempt(
        self,
        client: httpx.AsyncClient,
        outgoing: Outgoing,
        body: bytes,
        role: str,
        url: str,
        attempt: int,
        secret: bytes,
    ) -> tuple[bool, Any]:
        status: int | None = None
        error: str | None = None
        raw = b""
        signed_at = datetime.fromtimestamp(self.wall_clock(), timezone.utc)
        started = time.perf_counter()
        try:
            if not host_allowed(url, self.allowed_hosts):
                raise PermissionError("host not allowed for callbacks (see --callback-host)")
            request = client.build_request(
                "POST", url, content=body, headers={"Content-Type": "application/json", "User-Agent": USER_AGENT}
            )
            sign_request(request, outgoing.app_key, secret, signed_at)
            status, raw = await asyncio.wait_for(_send(client, request), self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            error = f"timeout after {self.timeout:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # an unusable URL, and anything else a backend can cause
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        elapsed = (time.perf_counter() - started) * 1000
        ok = status is not None and 200 <= status < 300
        if status is not None and not ok:
            error = f"HTTP {status}"
        answer: Any = None
        shown: Any = None
        if raw.strip():
            try:
                answer = parse_json(raw)
                shown = answer
            except (ValueError, RecursionError):
                answer = INVALID
                shown = raw[:2000].decode("utf-8", "replace")
        shown_url = safe_url(url)
        self._record(
            {
                "event": outgoing.event,
                "callId": outgoing.call_id,
                "url": shown_url,
                "target": role,
                "attempt": attempt,
                "ok": ok,
                "status": status,
                "error": error,
                "elapsedMs": round(elapsed, 1),
                "signedAt": utc_timestamp(signed_at),
                "request": outgoing.body,
                "response": shown if outgoing.event in ANSWER_SCHEMAS else None,
            }
        )
        if ok:
            log.info(
                "callback %s for call %s -> %s (%s): %s in %.0f ms",
                outgoing.event, outgoing.call_id, shown_url, role, status, elapsed,
            )  # fmt: skip
        else:
            log.warning(
                "callback %s for call %s -> %s (%s) failed: %s after %.0f ms",
                outgoing.event, outgoing.call_id, shown_url, role, error, elapsed,
            )  # fmt: skip
        return ok, answer if ok else None

    # -- records ---------------------------------------------------------------------

    def _last_seq(self) -> int:
        doc = self.store.read("meta", "delivery-seq")
        return int(doc["last"]) if doc else 0

    def _record(self, record: Document) -> None:
        with self.store.transaction():
            seq = self._last_seq() + 1
            self.store.put("meta", "delivery-seq", {"last": seq})
            self.store.put("deliveries", f"{seq:012d}", {"seq": seq, **record})
            if seq > KEEP:
                self.store.delete("deliveries", f"{seq - KEEP:012d}")

    def deliveries(self, *, after: int = 0, call_id: str | None = None, event: str | None = None) -> list[Document]:
        """Delivery records, oldest first (``after``: only those with a larger ``seq``)."""
        return [
            doc
            for _, doc in self.store.items("deliveries")
            if doc["seq"] > after
            and (call_id is None or doc["callId"] == call_id)
            and (event is None or doc["event"] == event)
        ]

    def clear(self) -> None:
        with self.store.transaction():
            for key, _ in self.store.items("deliveries"):
                self.store.delete("deliveries", key)

    # -- /_sinch/... -----------------------------------------------------------------

    async def handle(self, method: str, path: str, query_string: str) -> Reply:
        """The inspection endpoints; anything else under the prefix is an unknown route."""
        if not self.test_controls:
            raise ApiError(404, errors.NOT_FOUND, "Resource not found")  # the pipeline refuses these first
        route = path[len(self.prefix) :].rstrip("/")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        if route == "deliveries":
            if method in ("GET", "HEAD"):
                records = self.deliveries(call_id=query.get("callId"), event=query.get("event"))
                return Reply(200, {"deliveries": records, "pending": self.jobs.pending()})
            if method == "DELETE":
                self.clear()
                return Reply(204)
            raise _not_allowed(method, "DELETE, GET, HEAD")
        if route == "advance":
            if method != "POST":
                raise _not_allowed(method, "POST")
            try:
                seconds = float(query.get("seconds", "0"))
                records = await self.advance(seconds)
            except ValueError as exc:
                raise ApiError(400, errors.ILLEGAL_PARAMETERS, f"Illegal parameter seconds: {exc}") from None
            return Reply(200, {"now": iso(self.clock()), "deliveries": records, "pending": self.jobs.pending()})
        if route == "calls":
            if method != "POST":
                raise _not_allowed(method, "POST")
            return Reply(200, {"callId": self._inbound_call(query)})
        if route == "callees":
            if method != "POST":
                raise _not_allowed(method, "POST")
            if self.simulation is None or not query.get("number"):
                raise ApiError(400, errors.MISSING_PARAMETER, "Missing parameter: number")
            self.simulation.script_callee(query["number"], query.get("answer", ""))
            return Reply(204)
        if route == "state":
            if method not in ("GET", "HEAD"):
                raise _not_allowed(method, "GET, HEAD")
            return Reply(200, self._state())
        if route == "inspector":
            if method not in ("GET", "HEAD"):
                raise _not_allowed(method, "GET, HEAD")
            headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
            return Reply(200, None, headers, _inspector_page())
        raise ApiError(404, errors.NOT_FOUND, "Resource not found")

    def _state(self) -> dict[str, Any]:
        """Calls and conferences as the inspector page shows them, at the simulation's time."""
        now = self.clock()
        calls, conferences = [], []
        sim = self.simulation
        for call_id, call in self.store.items("calls"):
            status, _, reason, duration, _ = sim.call_state(call, now) if sim else ("?", "", "", 0, None)
            calls.append(
                {
                    "callId": call_id,
                    "kind": call.get("method"),
                    "from": call.get("from", {}).get("endpoint"),
                    "to": call.get("to", {}).get("endpoint"),
                    "status": status,
                    "reason": reason,
                    "duration": duration,
                    "conferenceId": call.get("conferenceId"),
                }
            )
        for conference_id, conference in self.store.items("conferences"):
            participants = [
                {"callId": call_id, "muted": bool(p.get("muted")), "onhold": bool(p.get("onhold"))}
                for call_id, p in (conference.get("participants") or {}).items()
            ]
            conferences.append({"conferenceId": conference_id, "participants": participants})
        return {"now": iso(now), "calls": calls, "conferences": conferences}

    def _inbound_call(self, query: Mapping[str, str]) -> str:
        """``POST /_sinch/calls?cli=+46...&to=+46...[&presses=1,,2][&hangupAfter=30][&applicationKey=K]``."""
        if self.simulation is None:
            raise ApiError(404, errors.NOT_FOUND, "Resource not found")
        for name in ("cli", "to"):
            if not query.get(name):
                raise ApiError(400, errors.MISSING_PARAMETER, f"Missing parameter: {name}")
        keys = sorted(self.secrets)
        key = query.get("applicationKey") or (keys[0] if len(keys) == 1 else "")
        if key not in self.secrets:
            raise ApiError(400, errors.ILLEGAL_PARAMETERS, "Illegal parameter applicationKey")
        presses: list[str | None] | None = None
        if "presses" in query:
            presses = [press or None for press in query["presses"].split(",")]  # "" is silence
        hangup_after = None
        if query.get("hangupAfter"):
            try:
                hangup_after = float(query["hangupAfter"])
            except ValueError:
                raise ApiError(400, errors.ILLEGAL_PARAMETERS, "Illegal parameter hangupAfter") from None
            if not 0 <= hangup_after <= 14400:
                raise ApiError(400, errors.ILLEGAL_PARAMETERS, "Illegal parameter hangupAfter: 0 to 14400")
        return self.simulation.inbound_call(key, query["cli"], query["to"], presses, hangup_after)


@functools.cache
def _inspector_page() -> bytes:
    return (resources.files("sinch_calling_server") / "data" / "inspector.html").read_bytes()


def _not_allowed(method: str, allow: str) -> ApiError:
    return ApiError(405, errors.METHOD_NOT_ALLOWED, f"Method {method} not allowed", {"Allow": allow})


def _alive(task: asyncio.Task[None] | None) -> bool:
    if task is None or task.done():
        return False
    try:
        return task.get_loop() is asyncio.get_running_loop()
    except RuntimeError:
        return False


async def _send(client: httpx.AsyncClient, request: httpx.Request) -> tuple[int, bytes]:
    response = await client.send(request, stream=True)
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_ANSWER:
                break
        return response.status_code, b"".join(chunks)[:MAX_ANSWER]
    finally:
        await response.aclose()
