"""Which host serves which request.

Sinch splits the Calling API over two hosts, as its official SDKs do: call traffic
(callouts, calls, conferences) goes to ``CALLING_URL`` or a regional twin of it, and
configuration traffic (numbers, callbacks, number queries) to ``CONFIGURATION_URL``.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CALLING_URL", "CONFIGURATION_URL", "REGIONS", "Host", "base_url_for", "check_region"]

CONFIGURATION_URL = "https://callingapi.sinch.com/v1"
CALLING_URL = "https://calling.api.sinch.com/calling/v1"
REGIONS = ("euc1", "use1", "sae1", "apse1", "apse2")

Host = Literal["calling", "configuration"]


def check_region(region: str | None) -> None:
    """Raise ``ValueError`` for a region Sinch does not have (``None`` is the global host)."""
    if region is not None and region not in REGIONS:
        raise ValueError(f"unknown region {region!r}; valid regions are: {', '.join(REGIONS)}")


def base_url_for(host: Host, *, region: str | None, base_url: str | None) -> str:
    """The base URL (no trailing slash) for ``host``.

    ``base_url`` overrides every host (a test server, a proxy). ``region`` selects a regional
    host for call traffic only; configuration has no regional hosts. An unknown region raises
    ``ValueError`` even for configuration traffic (the clients refuse it when they are created).
    """
    check_region(region)
    if base_url is not None:
        return base_url.rstrip("/")
    if host == "configuration":
        return CONFIGURATION_URL
    if host == "calling":
        if region is not None:
            return f"https://calling-{region}.api.sinch.com/calling/v1"
        return CALLING_URL
    raise ValueError(f"unknown host {host!r}; expected 'calling' or 'configuration'")
