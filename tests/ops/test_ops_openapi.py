"""openapi.json: generated from the models, served by make serve, and held to by the API.

schemathesis reads the document from the running local server and sends generated requests,
valid and invalid, to every one of the twelve actions (fuzzing, then stateful sequences that feed
one answer's ids into the next request);
every answer must be a documented status with the documented body and content type, and never a
server error.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from handler.api import VERSION, action_names
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
SCHEMATHESIS_MAX_EXAMPLES = 10
# The coverage phase is left to the by-hand run in docs/operations.md: over twelve actions it is
# some 1,300 fixed cases, two to three minutes here, where fuzzing and stateful take under 40 s.
# The boundaries it would probe are the contract tests' (tests/contract/).
SCHEMATHESIS_PHASES = "fuzzing,stateful"
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


def test_every_action_has_its_own_operation_on_the_one_path() -> None:
    # Given the generated document
    document = openapi.document()
    # Then each action is a POST path item keyed by its Action query, with its own schemas
    assert sorted(document["paths"]) == sorted(f"/?Action={name}" for name in action_names())
    for name in action_names():
        path_item = document["paths"][f"/?Action={name}"]
        assert list(path_item) == ["post"], name
        operation = path_item["post"]
        assert operation["operationId"] == name
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}Request"}
        success = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert success == {"$ref": f"#/components/schemas/{name}Response"}
        assert operation["parameters"] == [
            {"name": "Version", "in": "query", "required": True,
             "schema": {"type": "string", "enum": [VERSION]}}
        ]  # fmt: skip


def test_the_document_states_the_limits_and_every_error_status() -> None:
    # Given the generated document
    document = openapi.document()
    schemas = document["components"]["schemas"]
    # Then the bodies' limits are in the schemas...
    create = schemas["CreateConversationRequest"]["properties"]
    assert (create["AppId"]["minimum"], create["AppId"]["maximum"]) == (1, 2**31 - 1)
    core = schemas["CreateConversationCoreInfo"]["properties"]
    assert core["ConversationType"]["enum"] == [1, 2, 100]
    assert core["Name"]["anyOf"][0]["maxLength"] == 100
    batch = schemas["BatchGetConversationsRequest"]["properties"]["ConversationShortId"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 100)
    assert (batch["items"]["minimum"], batch["items"]["maximum"]) == (1, 2**53 - 1)
    listing = schemas["GetUserConversationsRequest"]["properties"]
    assert (listing["Limit"]["minimum"], listing["Limit"]["maximum"]) == (1, 20)
    assert "Limit" in schemas["GetUserConversationsRequest"]["required"]
    # ... the success envelopes carry each action's Result ...
    result = schemas["BatchGetConversationsResponse"]["properties"]["Result"]
    assert result == {"$ref": "#/components/schemas/BatchGetConversationsResult"}
    info = schemas["BatchGetConversationsResult"]["properties"]["ConversationCoreInfos"]
    assert info["items"] == {"$ref": "#/components/schemas/ConversationInfo"}
    # ... and each error status of each action answers the error envelope
    statuses = {"400", "401", "403", "404", "405", "413", "429", "500", "503", "504"}
    for path_item in document["paths"].values():
        operation = path_item["post"]
        assert statuses | {"200"} == operation["responses"].keys()
        for status in statuses:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
        assert operation["responses"]["405"]["headers"]["Allow"]["schema"]["enum"] == ["POST"]
        assert "ConversationNotFound" in operation["responses"]["404"]["description"]


def test_each_path_key_reaches_its_action(local_server: str) -> None:
    # Given make serve, and the document's path keys
    for path in openapi.document()["paths"]:
        # When a client joins server URL, path key and Version as schemathesis does
        url = f"{local_server}{path}&Version={VERSION}"
        request = urllib.request.Request(url, data=b"{}", method="POST")  # noqa: S310 - 127.0.0.1
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1
                payload = json.loads(response.read())
        except urllib.error.HTTPError as refused:
            payload = json.loads(refused.read())
        # Then the action it names answers (an empty body is that action's InvalidParam)
        metadata = payload["ResponseMetadata"]
        assert metadata["Action"] == path.removeprefix("/?Action=")
        assert metadata["Error"]["Code"] == "InvalidParam", metadata


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
        "--phases",
        SCHEMATHESIS_PHASES,
        "--request-timeout",
        "20",
        # The same cases on every run, so CI repeats what passed here. With random data, one
        # full-suite run ended on a warning instead of "No issues found"; schemathesis warns
        # when a phase's schema-valid cases are all refused, and this API refuses some
        # schema-valid data (rules JSON Schema cannot state, e.g. OtherUserId != OwnerUserId).
        "--generation-deterministic",
        # Its two warnings are what this API is, not findings: most generated ids name no
        # conversation (404 ConversationNotFound), and most generated bodies break a rule the
        # schema cannot state. Failures still fail the run.
        "--warnings",
        "off",
    ]
    # When it runs its phases over all twelve actions (fuzzing, then stateful sequences)
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
