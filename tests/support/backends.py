"""The handler wired to a fresh table on moto or on Amazon DynamoDB Local."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from handler import app
from handler.store import DynamoDBConversationStore, table_definition
from scripts.dynamodb_local import DEFAULT_CACHE_DIR, running
from tests.support.events import http_api_event

BACKENDS = ["moto", "ddblocal"]


@dataclass
class Response:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str]

    @property
    def result(self) -> dict[str, Any]:
        return self.payload["Result"]

    @property
    def error(self) -> dict[str, Any]:
        return self.payload["ResponseMetadata"]["Error"]


@dataclass
class Service:
    """The real Lambda handler over one fresh table; `client` sees every DynamoDB call."""

    client: Any
    table_name: str
    calls: list[str] = field(default_factory=list)

    def invoke(self, event: dict[str, Any]) -> Response:
        raw = app.lambda_handler(event, None)  # type: ignore[arg-type]
        return Response(raw["statusCode"], json.loads(raw["body"]), raw["headers"])

    def create(self, body: Any, **event_options: Any) -> Response:
        return self.invoke(http_api_event(body, **event_options))

    def items(self) -> list[dict[str, Any]]:
        return scan(self.client, self.table_name)


def scan(client: Any, table_name: str) -> list[dict[str, Any]]:
    """Every item of the table, read consistently."""
    return [
        item
        for page in client.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True)
        for item in page["Items"]
    ]


def make_client(endpoint_url: str | None = None) -> Any:
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def new_table(client: Any) -> str:
    """Create an empty table with the service's layout under a fresh name; return the name.

    Through a client of the suite's own (same endpoint, generous timeouts): the table with its
    four indexes can take DynamoDB Local over a second on a loaded machine, and a client with
    the production read timeout would retry the CreateTable it already made, and fail on it.
    """
    table_name = f"conversations-{uuid.uuid4().hex[:12]}"
    admin = make_client(client.meta.endpoint_url)
    admin.create_table(**table_definition(table_name))
    admin.get_waiter("table_exists").wait(TableName=table_name)
    return table_name


def new_service(client: Any, monkeypatch: pytest.MonkeyPatch, **store_options: Any) -> Service:
    """The handler's store replaced by one over `client` and a fresh table."""
    table_name = new_table(client)
    service = Service(client=client, table_name=table_name)
    client.meta.events.register(
        "before-send.dynamodb", lambda request, **_: service.calls.append(_operation(request))
    )
    store_options.setdefault("write_budget_seconds", 5.0)
    store = DynamoDBConversationStore(client, table_name=table_name, **store_options)
    monkeypatch.setattr(app, "store", store)
    return service


def _operation(request: Any) -> str:
    return str(request.headers.get("X-Amz-Target", b"").decode().split(".")[-1])


@pytest.fixture(scope="session")
def ddblocal_endpoint() -> Iterator[str]:
    """Amazon DynamoDB Local, installed if needed and started once for the whole session."""
    cache_dir = Path(os.environ.get("DYNAMODB_LOCAL_CACHE") or DEFAULT_CACHE_DIR)
    with running(cache_dir) as endpoint:
        yield endpoint


@pytest.fixture(params=BACKENDS)
def service(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    if request.param == "moto":
        with mock_aws():
            yield new_service(make_client(), monkeypatch)
    else:
        endpoint = request.getfixturevalue("ddblocal_endpoint")
        yield new_service(make_client(endpoint), monkeypatch)
