"""Helpers for the operations tests: request bodies, EMF parsing, handler processes.

The handler's environment comes from tests/conftest.py; conftest.py here provides handler.app
over moto in this process, and a moto server for the handler processes started from here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3

from handler.store import table_definition

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def group_chat(**fields: Any) -> dict[str, Any]:
    return {
        "AppId": 10,
        "OwnerUserId": 10001,
        "ConversationCoreInfo": {"ConversationType": 2},
        **fields,
    }


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric documents among the lines printed to stdout."""
    documents = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            document = json.loads(line)
            if "_aws" in document:
                documents.append(document)
    return documents


def metric_names(document: dict[str, Any]) -> set[str]:
    return {
        metric["Name"]
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    }


def create_table(endpoint: str, table_name: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    client.create_table(**table_definition(table_name))


def handler_process_env(endpoint: str, table_name: str, **extra: str) -> dict[str, str]:
    """Environment for a fresh process running handler.app against the moto server."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_", "DYNAMODB_", "_X_AMZN"))
    }
    return {
        **inherited,
        "PYTHONPATH": str(REPO),
        "TABLE_NAME": table_name,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "DYNAMODB_ENDPOINT_URL": endpoint,
        **extra,
    }


def run_script(
    script: str, *args: str, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run tests/ops/`script` in a fresh process, which must succeed."""
    finished = subprocess.run(
        [sys.executable, str(REPO / "tests" / "ops" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return finished


def run_handler(
    tmp_path: Path, events: list[dict[str, Any]], env: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """Serve the events in a fresh handler process: (all it printed, what run_handler.py saw)."""
    events_file, result_file = tmp_path / "events.json", tmp_path / "result.json"
    events_file.write_text(json.dumps(events), encoding="utf-8")
    finished = run_script(
        "run_handler.py", str(events_file), str(result_file), env=env, timeout=120
    )
    result = json.loads(result_file.read_text(encoding="utf-8"))
    return finished.stdout + finished.stderr, result
