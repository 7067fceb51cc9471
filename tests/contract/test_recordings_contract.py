"""The shipped recordings, as a client of the replaying server receives them, against the spec.

``tests/server/test_recordings.py::test_every_shipped_recording_fits_the_spec`` already checks
each stored interaction with the server's own validators (request body and response body, status
declared). This module does not repeat that: it replays every cassette through the server in
``replay`` mode, each recorded request signed and sent as schemathesis builds it, and checks with
schemathesis' validators (an implementation independent of the server's) that what comes back is
the recorded answer and conforms to the spec: status, content type, headers and body schema.
A recorded request that no longer fits the spec is refused by the server's validation here, and
a recorded answer that no longer fits fails the conformance checks.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sinch_calling_server import create_app
from sinch_calling_server.recordings import packaged_recordings

from tests.support import KEY, SECRET

from .harness import RUN, SPEC, SinchSigner, schemathesis_config, spec_document

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CASSETTES = sorted([*packaged_recordings().glob("*.yaml"), *packaged_recordings().glob("*.yml")])
TEMPLATES = [
    (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", re.escape(path.rstrip("/") or "/")) + "/?$"), path)
    for path in spec_document()["paths"]
]
SIGNER = SinchSigner()


def operation_for(schema: Any, method: str, path: str) -> tuple[Any, dict[str, str]]:
    """The spec operation of a recorded request path and its path parameters."""
    matches = [(template, pattern.match(path)) for pattern, template in TEMPLATES]
    found = [(template, m) for template, m in matches if m is not None]
    # A literal segment beats a parameter: the template with the fewest parameters wins.
    template, match = min(found, key=lambda item: item[0].count("{"))
    operation = schema[template][method]
    names = re.findall(r"\{([^}]+)\}", template)
    return operation, dict(zip(names, match.groups(), strict=True))


@pytest.mark.parametrize("cassette", CASSETTES, ids=[c.name for c in CASSETTES])
def test_replayed_recordings_conform_to_the_spec(cassette: Path, tmp_path: Path) -> None:
    (tmp_path / cassette.name).write_text(cassette.read_text(encoding="utf-8"), encoding="utf-8")
    app = create_app(spec=SPEC, applications={KEY: SECRET}, mode="replay", recordings=tmp_path)
    schema = schemathesis.openapi.from_path(SPEC, config=schemathesis_config())
    schema.app = app
    interactions = yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]
    assert interactions, f"{cassette.name} has no interactions"
    for index, interaction in enumerate(interactions):
        request, recorded = interaction["request"], interaction["response"]
        operation, parameters = operation_for(schema, request["method"], request["path"])
        assert operation.definition.raw["operationId"] == interaction["operationId"], f"{cassette.name}#{index}"
        kwargs: dict[str, Any] = {"path_parameters": parameters, "query": request.get("query") or {}}
        if request.get("body") is not None:
            kwargs.update(body=request["body"], media_type="application/json")
        case = operation.Case(**kwargs)
        response = case.call(auth=SIGNER)
        RUN.count("recordings (replayed)", operation.label)
        where = f"{cassette.name}#{index} {operation.label}"
        assert response.status_code == recorded["status"], f"{where}: {response.status_code} {response.text[:300]}"
        if recorded.get("body") is None:
            assert response.content == b"", where
        else:
            assert response.json() == recorded["body"], where
        case.validate_response(response, checks=CONFORMANCE)
