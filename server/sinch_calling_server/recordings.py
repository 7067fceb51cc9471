"""Recorded interactions: YAML cassettes, replayed or recorded.

A cassette is a YAML file with a list of interactions, one per entry::

    interactions:
      - operationId: callout              # informative; matching ignores it
        request:
          method: POST
          path: /callouts                 # the spec's path: no /v1 or /calling/v1, no trailing slash
          query: {}
          body: {method: ttsCallout, ...}  # parsed JSON (null when there is none)
        response:
          status: 200
          headers: {content-type: application/json}
          body: {callId: 4398599d1ba84ef3bde0a82dfb61abed}

Replay matches on (method, path, query, JSON body compared after normalisation). Several
interactions with the same request are answered in recorded order; once used up, the last
one keeps answering. Recording forwards each request to the real API, re-signed with the
upstream credentials, and saves the exchange without Authorization, x-timestamp or any
secret; an answer that violates the spec is refused and not saved.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import yaml
from sinch_calling._runtime.signing import ApplicationAuth, BasicAuth

from . import errors
from .errors import ApiError
from .jsonio import dumps
from .messages import Backend, Reply, Request, ResponseViolation, check_reply
from .settings import Application
from .spec import CompiledSpec, Operation

__all__ = [
    "Recorder",
    "Replayer",
    "load_cassettes",
    "normalise_path",
    "packaged_recordings",
    "request_key",
    "upstream_base",
]

REDACTED = "[REDACTED]"
# Body fields whose values are secrets wherever they appear.
_SECRET_FIELDS = re.compile(r"(secret|password|credentials|token|authorization)", re.IGNORECASE)
# Response headers worth keeping in a cassette; everything else is transport noise or private.
_KEPT_HEADERS = ("content-type", "retry-after")


def packaged_recordings() -> Path:
    """The recordings shipped with the package: every JSON example of the seed document."""
    return Path(str(resources.files("sinch_calling_server") / "data" / "recordings"))


def normalise_path(spec: CompiledSpec, raw_path: str) -> str:
    """The request path without its base path and trailing slash, as cassettes store it."""
    for prefix in spec.prefixes:
        if raw_path == prefix or raw_path.startswith(prefix + "/"):
            raw_path = raw_path[len(prefix) :]
            break
    return raw_path.rstrip("/") or "/"


def upstream_base(upstream: str, spec: CompiledSpec) -> str:
    """The upstream's origin (and any path before the API's base path), without a trailing slash.

    Requests are forwarded with their own base path (``/v1/...``, ``/calling/v1/...``), so a base
    path given with ``--upstream`` (``https://calling.api.sinch.com/calling/v1``) is dropped
    instead of being doubled (``.../calling/v1/calling/v1/callouts``).
    """
    parts = urlsplit(upstream.strip())
    path = parts.path.rstrip("/")
    for prefix in spec.prefixes:  # longest first: /calling/v1 before /v1
        if path.endswith(prefix):
            path = path[: -len(prefix)].rstrip("/")
            break
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _query_items(query: Mapping[str, Any] | str | None) -> tuple[tuple[str, str], ...]:
    if not query:
        return ()
    if isinstance(query, str):
        return tuple(sorted(httpx.QueryParams(query).multi_items()))
    return tuple(sorted((str(k), str(v)) for k, v in query.items()))


def request_key(method: str, path: str, query: Mapping[str, Any] | str | None, body: Any) -> str:
    from urllib.parse import unquote

    return "\n".join([method.upper(), unquote(path), repr(_query_items(query)), _canonical(body)])


def load_cassettes(directory: str | Path) -> list[dict[str, Any]]:
    """Every interaction of every ``*.yaml``/``*.yml`` file in ``directory``, in file-name order."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ValueError(f"recordings folder {folder} does not exist")
    interactions: list[dict[str, Any]] = []
    for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for index, item in enumerate(data.get("interactions") or []):
            if not isinstance(item, dict) or "request" not in item or "response" not in item:
                raise ValueError(f"{file.name}: interaction {index} needs a request and a response")
            item.setdefault("source", f"{file.name}#{index}")
            interactions.append(item)
    return interactions


class Replayer:
    """Answers requests from cassettes; unmatched ones get an error or go to ``fallback``."""

    def __init__(self, interactions: Iterable[dict[str, Any]], spec: CompiledSpec | None = None,
                 fallback: Backend | None = None) -> None:  # fmt: skip
        self._by_key: dict[str, list[dict[str, Any]]] = {}
        for item in interactions:
            req = item["request"]
            key = request_key(str(req["method"]), str(req["path"]), req.get("query"), req.get("body"))
            self._by_key.setdefault(key, []).append(item)
        self._used: dict[str, int] = {}
        self._lock = threading.Lock()
        self.spec = spec
        self.fallback = fallback

    @classmethod
    def from_directory(
        cls, directory: str | Path, spec: CompiledSpec | None = None, fallback: Backend | None = None
    ) -> Replayer:
        return cls(load_cassettes(directory), spec, fallback)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def handle(self, request: Request) -> Reply | Any:
        path = normalise_path(self.spec, request.raw_path) if self.spec else request.raw_path
        key = request_key(request.method, path, request.query_string, request.body)
        candidates = self._by_key.get(key)
        if not candidates:
            if self.fallback is not None:
                return self.fallback.handle(request)
            raise ApiError(
                404,
                errors.NOT_FOUND,
                f"No recorded interaction matches {request.method} {path} with this body (replay mode)",
            )
        with self._lock:
            used = self._used.get(key, 0)
            self._used[key] = used + 1
        item = candidates[min(used, len(candidates) - 1)]
        response = item["response"]
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        body = response.get("body")
        raw = b"" if body is None else dumps(body)
        return Reply(int(response["status"]), None, headers, raw)


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``value`` with secret fields and every occurrence of a known secret replaced."""
    known = [s for s in secrets if s]
    if isinstance(value, dict):
        return {
            k: (REDACTED if _SECRET_FIELDS.search(str(k)) and v is not None else redact(v, known))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, known) for v in value]
    if isinstance(value, str):
        for secret in known:
            value = value.replace(secret, REDACTED)
        return value
    return value


class Recorder:
    """Forwards requests to the real API and saves each exchange to ``<operationId>.yaml``."""

    def __init__(
        self,
        directory: str | Path,
        upstream: str,
        application: Application,
        spec: CompiledSpec,
        basic: bool = False,
        *,
        local_secrets: Iterable[str] = (),
        timeout: float = 30.0,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.upstream = upstream_base(upstream, spec)
        self.application = application
        self.spec = spec
        self.basic = basic
        self.secrets = [application.secret, *local_secrets]
        self._timeout = timeout
        self._lock = threading.Lock()

    async def handle(self, request: Request) -> Reply:
        url = self.upstream + request.raw_path + (f"?{request.query_string}" if request.query_string else "")
        headers = {"accept": "application/json"}
        if request.raw_body:
            headers["content-type"] = request.headers.get("content-type", "application/json")
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            outgoing = client.build_request(request.method, url, content=request.raw_body, headers=headers)
            key, secret = self.application.key, self.application.secret
            auth = BasicAuth(key, secret) if self.basic else ApplicationAuth(key, secret)
            try:
                answer = await client.send(outgoing, auth=auth)
            except httpx.HTTPError as exc:
                raise ApiError(502, errors.BAD_GATEWAY, f"Upstream unreachable: {type(exc).__name__}") from None
        reply = self._reply(request.operation, answer)
        self._save(request, reply)
        return reply

    def _reply(self, operation: Operation, answer: httpx.Response) -> Reply:
        headers = {k: answer.headers[k] for k in _KEPT_HEADERS if k in answer.headers}
        reply = Reply(answer.status_code, None, headers, answer.content)
        try:
            reply.body = check_reply(operation, reply)  # parsed once: the recording stores it
        except ResponseViolation as exc:
            raise ApiError(
                502, errors.BAD_GATEWAY, f"Upstream answer violates the spec and was not recorded: {exc}"
            ) from None
        return reply

    def _save(self, request: Request, reply: Reply) -> None:
        interaction = {
            "operationId": request.operation.operation_id,
            "request": {
                "method": request.method,
                "path": normalise_path(self.spec, request.raw_path),
                "query": dict(httpx.QueryParams(request.query_string).multi_items()) if request.query_string else {},
                "body": redact(request.body, self.secrets),
            },
            "response": {
                "status": reply.status,
                "headers": reply.headers,
                "body": redact(reply.body, self.secrets),
            },
        }
        file = self.directory / f"{request.operation.operation_id}.yaml"
        with self._lock:
            existing: dict[str, Any] = {}
            if file.exists():
                existing = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            existing.setdefault("interactions", []).append(interaction)
            text = yaml.safe_dump(existing, sort_keys=False, allow_unicode=True)
            temporary = file.with_suffix(".yaml.tmp")
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(file)
