"""Fixtures for the operations tests: the real handler on moto, in this process or in others."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from moto import mock_aws
from ops_support import wait_for_url

from handler.store import table_definition


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
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server in its own process: DynamoDB at http://127.0.0.1:<free port>."""
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        yield wait_for_url(log, server, r"Running on (http://127\.0\.0\.1:\d+)")
    finally:
        server.terminate()
        server.wait(timeout=10)
