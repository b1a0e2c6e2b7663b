"""The slimmed artifact runs the handler on its own: built for this machine, zipped, unpacked into
a clean directory, and imported by a fresh interpreter that sees nothing else.

Every events/*.json goes through it (so new actions and events are covered as they are added),
against Amazon DynamoDB Local, with auth off and in signature mode (the key document read from
a Secrets Manager secret on moto's server), with X-Ray tracing off and on. A model or data file
the build wrongly left out makes the handler's import or a request fail here.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from moto.server import ThreadedMotoServer
from volcengine.auth.SignerV4 import SignerV4
from volcengine.base.Request import Request
from volcengine.Credentials import Credentials

from scripts.build_artifact import (
    build_artifact,
    default_tools,
    find_bytecode_python,
    host_target,
    zip_artifact,
)
from tests.support.backends import make_client, new_table

REPO = Path(__file__).resolve().parent.parent
DRIVER = REPO / "tests" / "support" / "artifact_driver.py"
EVENTS = sorted((REPO / "events").glob("*.json"))
ACCESS_KEY_ID = "AKLTartifact"
SECRET_ACCESS_KEY = "YXJ0aWZhY3QtdGVzdC1zZWNyZXQ="  # noqa: S105 - a test key
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
ENVELOPE_METADATA = {"RequestId", "Action", "Version", "Service", "Region"}
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def host_python() -> str:
    """The runtime's version (3.13) where this machine has it, else the suite's interpreter."""
    return find_bytecode_python() or sys.executable


@pytest.fixture(scope="session")
def unpacked(tmp_path_factory: pytest.TempPathFactory, host_python: str) -> Path:
    """The artifact built for this machine by the project's build, zipped, then unpacked."""
    scratch = tmp_path_factory.mktemp("host-artifact")
    built = build_artifact(scratch / "build", default_tools(), target=host_target(host_python))
    archive = zip_artifact(built, scratch / "function.zip")
    shutil.rmtree(built)  # nothing of the build tree is left to lean on
    target = scratch / "task"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(target)
    return target


@pytest.fixture(scope="session")
def secrets_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(5)
        yield daemon


def run_from_artifact(
    python: str, task_root: Path, env: dict[str, str], events: list[tuple[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """The driver in an interpreter that sees the standard library and `task_root` only."""
    isolated = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(task_root),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "DYNAMODB_READ_TIMEOUT": "10",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **env,
    }
    # -S: no site (no site-packages), -s: no user site, -P: no script or cwd directory on sys.path.
    return subprocess.run(
        [python, "-S", "-s", "-P", str(DRIVER)],
        input=json.dumps({"events": events}),
        cwd=task_root,
        env=isolated,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def finished(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr[-6000:]
    return dict(json.loads(result.stdout.splitlines()[-1]))


def repository_events() -> list[tuple[str, Any]]:
    return [(path.name, json.loads(path.read_text())) for path in EVENTS]


def signed(event: dict[str, Any]) -> dict[str, Any]:
    """The event as API Gateway would pass it had the vendor's SDK signed the request now."""
    signed_event = json.loads(json.dumps(event))
    headers = signed_event.setdefault("headers", {}) or {}
    signed_event["headers"] = headers
    body = signed_event.get("body") or ""
    if signed_event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    request = Request()
    method = signed_event.get("requestContext", {}).get("http", {}).get("method")
    request.set_method(method or signed_event.get("httpMethod", "POST"))
    request.set_path(signed_event.get("rawPath") or signed_event.get("path") or "/")
    host = next((v for k, v in headers.items() if k.lower() == "host"), "example.com")
    request.set_headers(OrderedDict({"Host": host}))
    request.set_query(OrderedDict(signed_event.get("queryStringParameters") or {}))
    request.set_body(body)
    x_date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    with patch.object(SignerV4, "get_current_format_date", staticmethod(lambda: x_date)):
        SignerV4.sign(request, Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, "rtc", "cn-north-1"))
    for name, value in request.headers.items():
        if name.lower() != "host":
            headers[name.lower()] = value
    return signed_event


def assert_vendor_envelopes(answers: list[dict[str, Any]]) -> None:
    """Each answer is the vendor's envelope, never a 5xx; at least one request succeeded."""
    assert [answer["event"] for answer in answers] == [path.name for path in EVENTS]
    for answer in answers:
        status, where = answer["statusCode"], answer["event"]
        assert 200 <= status < 500, (where, status, answer["body"])
        payload = json.loads(answer["body"])
        metadata = payload["ResponseMetadata"]
        assert set(metadata) >= ENVELOPE_METADATA, where
        if status == 200:
            assert "Error" not in metadata and "Result" in payload, where
        else:
            assert {"Code", "Message"} <= set(metadata["Error"]), where
            assert "Result" not in payload, where
    assert any(answer["statusCode"] == 200 for answer in answers)


def assert_isolated(report: dict[str, Any], task_root: Path) -> None:
    """sys.path held the artifact and the interpreter's standard library only, and every module
    came from one of them: nothing from this repository or any site-packages."""
    task_root, stdlib = task_root.resolve(), Path(report["base_prefix"]).resolve()
    assert report["sys_path"][0] == str(task_root)
    for entry in report["sys_path"][1:]:
        resolved = Path(entry).resolve()
        assert resolved.is_relative_to(stdlib), entry
        assert "site-packages" not in resolved.parts, entry
    for name, origin in report["origins"].items():
        if origin is None:  # built in
            continue
        resolved = Path(origin).resolve()
        if resolved == DRIVER:  # as __main__ and as multiprocessing's alias __mp_main__
            continue
        assert resolved.is_relative_to(task_root) or resolved.is_relative_to(stdlib), name
        assert "site-packages" not in resolved.parts, (name, origin)


@pytest.fixture
def table(ddblocal_endpoint: str) -> str:
    # The handler package's own table definition (handler.store.table_definition).
    return new_table(make_client(ddblocal_endpoint))


@pytest.mark.ddblocal
@pytest.mark.parametrize("tracing", [False, True], ids=["tracing-off", "tracing-on"])
def test_every_event_runs_from_the_artifact_alone_without_auth(
    unpacked: Path,
    host_python: str,
    ddblocal_endpoint: str,
    table: str,
    xray_daemon: socket.socket,
    tracing: bool,
) -> None:
    # Given the unpacked artifact, DynamoDB Local and (when tracing) a stand-in X-Ray daemon
    env = {"TABLE_NAME": table, "DYNAMODB_ENDPOINT_URL": ddblocal_endpoint, "AUTH_MODE": "none"}
    if tracing:
        env |= tracing_env(unpacked, xray_daemon)
    # When every event of events/ goes through the handler imported from the artifact
    report = finished(run_from_artifact(host_python, unpacked, env, repository_events()))
    # Then each answer is a vendor envelope and none is a 5xx
    assert_vendor_envelopes(report["answers"])
    # And nothing but the artifact and the standard library was on the path
    assert_isolated(report, unpacked)
    # And the X-Ray SDK ran exactly when tracing was on, tracing the DynamoDB calls it made
    assert ("aws_xray_sdk.core" in report["origins"]) is tracing
    if tracing:
        assert "dynamodb" in traced_services(xray_daemon)
    # And the only service model loaded was DynamoDB's (X-Ray's is not needed to trace)
    assert set(report["models"]) == {"dynamodb"}


@pytest.mark.ddblocal
@pytest.mark.parametrize("tracing", [False, True], ids=["tracing-off", "tracing-on"])
def test_every_event_runs_from_the_artifact_in_signature_mode_with_a_secret(
    unpacked: Path,
    host_python: str,
    ddblocal_endpoint: str,
    table: str,
    secrets_endpoint: str,
    xray_daemon: socket.socket,
    tracing: bool,
) -> None:
    # Given the key document in a Secrets Manager secret on moto's server
    secret_id = f"artifact-keys-{uuid.uuid4().hex[:8]}"
    document = {ACCESS_KEY_ID: {"SecretAccessKey": SECRET_ACCESS_KEY, "AppIds": [10, 11]}}
    secrets = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=secrets_endpoint)
    secrets.create_secret(Name=secret_id, SecretString=json.dumps(document))
    env = {
        "TABLE_NAME": table,
        "DYNAMODB_ENDPOINT_URL": ddblocal_endpoint,
        "AUTH_MODE": "signature",
        "AUTH_KEYS_SECRET_ID": secret_id,
        # botocore's per-service endpoint variable: the handler's Secrets Manager client has none
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": secrets_endpoint,
    }
    if tracing:
        env |= tracing_env(unpacked, xray_daemon)
    # When every event, signed with that key, goes through the handler from the artifact
    events = [(name, signed(event)) for name, event in repository_events()]
    report = finished(run_from_artifact(host_python, unpacked, env, events))
    # Then each answer is a vendor envelope, none a 5xx, and signed creates succeeded: the key
    # document was read from the secret
    assert_vendor_envelopes(report["answers"])
    assert_isolated(report, unpacked)
    assert set(report["models"]) == {"dynamodb", "secretsmanager"}
    assert "aws_lambda_powertools.utilities.parameters.secrets" in report["origins"]
    if tracing:
        assert {"dynamodb", "secretsmanager"} <= traced_services(xray_daemon)


def import_only(python: str, task_root: Path) -> subprocess.CompletedProcess[str]:
    """The handler's import (its cold start: settings, clients, models), no request."""
    env = {"TABLE_NAME": "artifact-import", "AUTH_MODE": "none"}
    return run_from_artifact(python, task_root, env | {"DYNAMODB_ENDPOINT_URL": "http://x"}, [])


def test_the_intact_artifact_imports_the_handler(unpacked: Path, host_python: str) -> None:
    # Given the unpacked artifact as built, When only the handler is imported
    result = import_only(host_python, unpacked)
    # Then it succeeds: the failures below come from what each removes, nothing else
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.parametrize(
    "left_out",
    [
        "botocore/data/dynamodb",
        "botocore/data/endpoints.json",
        "botocore/data/partitions.json",
        "botocore/data/sdk-default-configuration.json",
    ],
)
def test_a_missing_model_or_data_file_fails_the_run(
    unpacked: Path, host_python: str, tmp_path: Path, left_out: str
) -> None:
    # Given a copy of the artifact without one model or data file botocore needs
    broken = tmp_path / "task"
    shutil.copytree(unpacked, broken)
    target = broken / left_out
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    # When the handler is imported from it
    result = import_only(host_python, broken)
    # Then the run fails, naming what is missing
    assert result.returncode != 0
    assert Path(left_out).name.removesuffix(".json") in result.stderr, result.stderr[-4000:]


def tracing_env(task_root: Path, daemon: socket.socket) -> dict[str, str]:
    host, port = daemon.getsockname()
    return {
        "LAMBDA_TASK_ROOT": str(task_root),
        "POWERTOOLS_TRACE_DISABLED": "false",
        "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
        "_X_AMZN_TRACE_ID": TRACE_HEADER,
    }


def traced_services(daemon: socket.socket) -> set[str]:
    """The AWS services named by the subsegments the stand-in daemon received."""
    daemon.setblocking(False)
    services: set[str] = set()
    while True:
        try:
            datagram = daemon.recv(65_536)
        except BlockingIOError:
            return services
        document = json.loads(datagram.decode("utf-8").split("\n", 1)[1])
        services |= _aws_names(document)


def _aws_names(entity: dict[str, Any]) -> set[str]:
    names = {entity["name"].lower()} if entity.get("namespace") == "aws" else set()
    for child in entity.get("subsegments", []):
        names |= _aws_names(child)
    return names
