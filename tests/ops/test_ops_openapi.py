"""openapi.json: generated from the models, served by make serve, and held to by the API.

schemathesis reads the document from the running local server and sends it generated requests,
valid and invalid; every answer must be a documented status with the documented body and
content type, and never a server error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import openapi
from tests.support.servers import local_runner

SCHEMATHESIS_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
)
SCHEMATHESIS_MAX_EXAMPLES = 50
RUN_TIMEOUT_SECONDS = 600


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    """`make serve` on a port the OS picks, with its embedded DynamoDB."""
    with local_runner(inherit_except=("DYNAMODB_ENDPOINT_URL", "TABLE_NAME")) as url:
        yield url


def test_the_committed_document_is_the_one_the_models_generate() -> None:
    # Given the committed openapi.json
    committed = openapi.OPENAPI_PATH.read_text(encoding="utf-8")
    # When the generator renders the models as they are now
    generated = openapi.render()
    # Then nothing drifted (run `python scripts/openapi.py` after changing a model)
    assert committed == generated


def test_the_document_states_the_route_limits_and_every_error_status() -> None:
    # Given the generated document
    document = openapi.document()
    operation = document["paths"]["/"]["post"]
    schemas = document["components"]["schemas"]
    # Then Action and Version are required query parameters with their one value each
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert parameters["Action"]["required"] and parameters["Version"]["required"]
    assert parameters["Action"]["schema"]["enum"] == ["CreateConversation"]
    assert parameters["Version"]["schema"]["enum"] == ["2020-12-01"]
    # ... the body's limits are in the schema ...
    request = schemas["CreateConversationRequest"]["properties"]
    assert (request["AppId"]["minimum"], request["AppId"]["maximum"]) == (1, 2**31 - 1)
    core = schemas["ConversationCoreInfo"]["properties"]
    assert core["ConversationType"]["enum"] == [1, 2, 100]
    assert core["Name"]["anyOf"][0]["maxLength"] == 100
    # ... and each error status answers the error envelope
    statuses = {"400", "404", "405", "413", "429", "500", "503", "504"}
    assert statuses | {"200"} <= operation["responses"].keys()
    for status in statuses:
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert operation["responses"]["405"]["headers"]["Allow"]["schema"]["enum"] == ["POST"]


def test_make_serve_serves_the_document_at_openapi_json(local_server: str) -> None:
    # Given make serve running
    # When /openapi.json is fetched
    with urllib.request.urlopen(f"{local_server}/openapi.json", timeout=10) as response:  # noqa: S310 - 127.0.0.1
        served = json.loads(response.read())
    # Then it is the committed document
    assert served == json.loads(openapi.OPENAPI_PATH.read_text(encoding="utf-8"))


def test_schemathesis_finds_nothing_against_make_serve(local_server: str, tmp_path: Path) -> None:
    # Given make serve, and schemathesis reading the document it serves
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{local_server}/openapi.json",
        "--url",
        local_server,
        "--checks",
        ",".join(SCHEMATHESIS_CHECKS),
        "--max-examples",
        str(SCHEMATHESIS_MAX_EXAMPLES),
        "--request-timeout",
        "20",
        # The same cases on every run, so CI repeats what passed here. With random data, one
        # full-suite run ended on a warning instead of "No issues found"; schemathesis warns
        # when a phase's schema-valid cases are all refused, and this API refuses some
        # schema-valid data (rules JSON Schema cannot state, e.g. OtherUserId != OwnerUserId).
        "--generation-deterministic",
    ]
    # When it runs its phases (coverage of each constraint's edges, then random fuzzing)
    finished = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    # Then it found no failure (its report, with the seed to replay, is the assertion message)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "No issues found" in finished.stdout
