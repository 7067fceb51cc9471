from __future__ import annotations

import pytest
from sinch_calling._runtime.hosts import CALLING_URL, CONFIGURATION_URL, REGIONS, Host, base_url_for


def test_constants() -> None:
    assert CONFIGURATION_URL == "https://callingapi.sinch.com/v1"
    assert CALLING_URL == "https://calling.api.sinch.com/calling/v1"
    assert REGIONS == ("euc1", "use1", "sae1", "apse1", "apse2")


@pytest.mark.parametrize(
    ("host", "region", "base_url", "expected"),
    [
        ("calling", None, None, CALLING_URL),
        ("configuration", None, None, CONFIGURATION_URL),
        ("calling", "euc1", None, "https://calling-euc1.api.sinch.com/calling/v1"),
        ("calling", "apse2", None, "https://calling-apse2.api.sinch.com/calling/v1"),
        ("configuration", "use1", None, CONFIGURATION_URL),  # no regional configuration hosts
        ("calling", None, "http://127.0.0.1:8080/calling/v1", "http://127.0.0.1:8080/calling/v1"),
        ("configuration", None, "http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("calling", "sae1", "http://proxy/", "http://proxy"),  # base_url overrides every host
    ],
)
def test_base_url_for(host: Host, region: str | None, base_url: str | None, expected: str) -> None:
    assert base_url_for(host, region=region, base_url=base_url) == expected


@pytest.mark.parametrize("region", REGIONS)
def test_every_region_has_a_calling_host(region: str) -> None:
    assert base_url_for("calling", region=region, base_url=None) == f"https://calling-{region}.api.sinch.com/calling/v1"


@pytest.mark.parametrize(("host", "region"), [("calling", "eu"), ("configuration", "EUC1"), ("calling", "")])
def test_unknown_region_lists_valid_ones(host: Host, region: str) -> None:
    with pytest.raises(ValueError, match="valid regions are: euc1, use1, sae1, apse1, apse2"):
        base_url_for(host, region=region, base_url=None)


def test_unknown_host() -> None:
    with pytest.raises(ValueError, match="unknown host"):
        base_url_for("numbers", region=None, base_url=None)  # type: ignore[arg-type]
