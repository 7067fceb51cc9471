"""The small core behind the generated ``SinchClient`` and ``AsyncSinchClient``.

Generated code supplies the surface (one resource per spec tag, one method per operation);
everything that is not derived from the spec lives here: credentials, auth, hosts, timeouts,
retries, the User-Agent and the httpx client's life cycle. Each generated endpoint calls
``client.request(host, method=..., url=..., ...)`` and gets the final ``httpx.Response`` back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, overload

import httpx

from .core import asend, raise_for_status, send, user_agent
from .exceptions import SinchCallingError
from .hosts import Host, base_url_for, check_region
from .operations import Operation, path_for, record_response
from .parsing import UNSET, Unset, parse_body
from .retries import DEFAULT_MAX_RETRIES
from .signing import ApplicationAuth, BasicAuth

__all__ = ["DEFAULT_TIMEOUT", "AsyncAPIClient", "AuthMode", "SyncAPIClient", "TimeoutTypes"]

AuthMode = Literal["signed", "basic"]
TimeoutTypes = float | httpx.Timeout | None

# Generous read timeout: a callout may take a few seconds to be accepted; connecting should not.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)

KEY_ENV = "SINCH_APPLICATION_KEY"
SECRET_ENV = "SINCH_APPLICATION_SECRET"
T = TypeVar("T")

Self = TypeVar("Self", bound="_BaseClient")


class _BaseClient:
    """Settings shared by the sync and async clients; no I/O here."""

    _owns_http: bool  # whether close() closes the httpx client (not when the caller brought it)

    def __init__(
        self,
        *,
        version: str,
        application_key: str | None,
        application_secret: str | None,
        auth: AuthMode,
        region: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
    ) -> None:
        key = application_key if application_key is not None else os.environ.get(KEY_ENV)
        secret = application_secret if application_secret is not None else os.environ.get(SECRET_ENV)
        if not key:
            raise SinchCallingError(f"No application key: pass application_key= or set {KEY_ENV}.")
        if not secret:
            raise SinchCallingError(f"No application secret: pass application_secret= or set {SECRET_ENV}.")
        try:
            check_region(region)
        except ValueError as exc:
            raise SinchCallingError(str(exc)) from None
        if max_retries < 0:
            raise SinchCallingError("max_retries must be 0 or more.")
        self._auth: httpx.Auth
        if auth == "signed":
            try:
                self._auth = ApplicationAuth(key, secret)
            except ValueError as exc:  # the message never contains the secret
                raise SinchCallingError(f"The {exc}.") from None
        elif auth == "basic":
            self._auth = BasicAuth(key, secret)
        else:
            raise SinchCallingError(f"Unknown auth mode {auth!r}; use 'signed' or 'basic'.")
        self.application_key = key
        self.auth_mode: AuthMode = auth
        self.region = region
        self.base_url = base_url
        self.timeout = _timeout(timeout)
        self.max_retries = max_retries
        self._user_agent = user_agent(version)

    def url_for(self, host: Host, path: str) -> str:
        """The absolute URL of ``path`` on the host that serves ``host`` traffic."""
        return base_url_for(host, region=self.region, base_url=self.base_url) + path

    def _build_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        host: Host,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | Unset = UNSET,
    ) -> httpx.Request:
        all_headers = {"User-Agent": self._user_agent, "Accept": "application/json"}
        if headers:
            all_headers.update(headers)
        return http.build_request(
            method.upper(),
            self.url_for(host, url),
            json=json,
            params=params,
            headers=all_headers,
            timeout=self.timeout if isinstance(timeout, Unset) else _timeout(timeout),
        )

    def _retries(self, max_retries: int | Unset) -> int:
        if isinstance(max_retries, Unset):
            return self.max_retries
        if max_retries < 0:
            raise SinchCallingError("max_retries must be 0 or more.")
        return max_retries

    def _copy_options(self: Self, other: Self, timeout: TimeoutTypes | Unset, max_retries: int | Unset) -> Self:
        other.__dict__.update(self.__dict__)
        if not isinstance(timeout, Unset):
            other.timeout = _timeout(timeout)
        other.max_retries = self._retries(max_retries)
        other._owns_http = False  # the copy shares the original's connection pool
        return other

    def __repr__(self) -> str:
        # Never the secret: only what identifies the client.
        return (
            f"{type(self).__name__}(application_key={self.application_key!r}, auth={self.auth_mode!r}, "
            f"region={self.region!r}, base_url={self.base_url!r}, max_retries={self.max_retries})"
        )


class SyncAPIClient(_BaseClient):
    def __init__(
        self,
        *,
        version: str,
        application_key: str | None = None,
        application_secret: str | None = None,
        auth: AuthMode = "signed",
        region: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        httpx_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            version=version,
            application_key=application_key,
            application_secret=application_secret,
            auth=auth,
            region=region,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._owns_http = httpx_client is None
        self._http = httpx_client if httpx_client is not None else httpx.Client()

    def request(
        self,
        host: Host,
        *,
        method: str,
        url: str,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | Unset = UNSET,
        max_retries: int | Unset = UNSET,
    ) -> httpx.Response:
        """Send one API request (signed, retried when safe); return the final response, any status."""
        request = self._build_request(
            self._http, host, method, url, json=json, params=params, headers=headers, timeout=timeout
        )
        return send(self._http, request, max_retries=self._retries(max_retries), auth=self._auth)

    @overload
    def _call(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] = ...,
        body: object = ...,
        parse: Callable[[Any], T],
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | Unset = ...,
        max_retries: int | Unset = ...,
    ) -> T: ...
    @overload
    def _call(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] = ...,
        body: object = ...,
        parse: None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | Unset = ...,
        max_retries: int | Unset = ...,
    ) -> None: ...
    def _call(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] = {},  # never mutated
        body: object = None,
        parse: Callable[[Any], T] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | Unset = UNSET,
        max_retries: int | Unset = UNSET,
    ) -> T | None:
        """Send one operation of the spec and parse its answer; a non-2xx raises its ``APIError``."""
        response = self.request(
            operation.host,
            method=operation.method,
            url=path_for(operation.path, path),
            json=body,
            headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )
        return _finish(operation, response, parse)

    def with_options(self: Self, *, timeout: TimeoutTypes | Unset = UNSET, max_retries: int | Unset = UNSET) -> Self:
        """A copy with other per-call settings, sharing this client's connections."""
        return self._copy_options(object.__new__(type(self)), timeout, max_retries)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


class AsyncAPIClient(_BaseClient):
    def __init__(
        self,
        *,
        version: str,
        application_key: str | None = None,
        application_secret: str | None = None,
        auth: AuthMode = "signed",
        region: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        httpx_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            version=version,
            application_key=application_key,
            application_secret=application_secret,
            auth=auth,
            region=region,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )
        self._owns_http = httpx_client is None
        self._http = httpx_client if httpx_client is not None else httpx.AsyncClient()

    async def request(
        self,
        host: Host,
        *,
        method: str,
        url: str,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | Unset = UNSET,
        max_retries: int | Unset = UNSET,
    ) -> httpx.Response:
        """Send one API request (signed, retried when safe); return the final response, any status."""
        request = self._build_request(
            self._http, host, method, url, json=json, params=params, headers=headers, timeout=timeout
        )
        return await asend(self._http, request, max_retries=self._retries(max_retries), auth=self._auth)

    @overload
    async def _call(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] = ...,
        body: object = ...,
        parse: Callable[[Any], T],
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | Unset = ...,
        max_retries: int | Unset = ...,
    ) -> T: ...
    @overload
    async def _call(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] = ...,
        body: object = ...,
        parse: None = ...,
        extra_headers: Mapping[str, str] | None = ...,
        timeout: TimeoutTypes | Unset = ...,
        max_retries: int | Unset = ...,
    ) -> None: ...
    async def _call(
        self,
        operation: Operation,
        *,
        path: Mapping[str, object] = {},  # never mutated
        body: object = None,
        parse: Callable[[Any], T] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes | Unset = UNSET,
        max_retries: int | Unset = UNSET,
    ) -> T | None:
        """Send one operation of the spec and parse its answer; a non-2xx raises its ``APIError``."""
        response = await self.request(
            operation.host,
            method=operation.method,
            url=path_for(operation.path, path),
            json=body,
            headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
        )
        return _finish(operation, response, parse)

    def with_options(self: Self, *, timeout: TimeoutTypes | Unset = UNSET, max_retries: int | Unset = UNSET) -> Self:
        """A copy with other per-call settings, sharing this client's connections."""
        return self._copy_options(object.__new__(type(self)), timeout, max_retries)

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self: Self) -> Self:
        return self

    async def __aexit__(self, *args: object) -> None:
        await self.close()


def _timeout(timeout: TimeoutTypes) -> httpx.Timeout:
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


def _finish(operation: Operation, response: httpx.Response, parse: Callable[[Any], T] | None) -> T | None:
    record_response(response)
    raise_for_status(response)
    return None if parse is None else parse_body(response, parse, operation.id)
