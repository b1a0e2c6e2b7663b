"""Fixtures for the operations tests: the real handler on moto, in this process or in others."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator
from types import ModuleType

import pytest
from moto import mock_aws

from handler.store import table_definition
from tests.support.servers import moto_server


@pytest.fixture
def app() -> Iterator[ModuleType]:
    """handler.app against a fresh in-memory DynamoDB with its table."""
    with mock_aws():
        module = importlib.import_module("handler.app")
        if module.settings.dynamodb_endpoint_url:
            raise RuntimeError("handler.app was loaded for another DynamoDB endpoint, not moto")
        module.store._client.create_table(**table_definition(module.settings.table_name))
        yield module


@pytest.fixture
def log_output(app: ModuleType) -> Iterator[io.StringIO]:
    """What the handler's Powertools logger writes, one JSON document a line."""
    handler = app.telemetry.logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server in its own process: DynamoDB at http://127.0.0.1:<free port>."""
    with moto_server() as url:
        yield url
