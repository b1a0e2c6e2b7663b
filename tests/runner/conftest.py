"""Runners on a stand-in function (tests/runner/echo_handler.py), for what is the runner's own."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.support.servers import local_runner

ECHO = "tests.runner.echo_handler.lambda_handler"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


@pytest.fixture(scope="module")
def echo_runner() -> Iterator[tuple[str, int]]:
    """One worker on the echo function, function timeout 1.5 s (integration timeout 30 s)."""
    with local_runner(
        inherit_except=("DYNAMODB_ENDPOINT_URL", "WORKERS"),
        RUNNER_HANDLER=ECHO,
        RUNNER_FUNCTION_TIMEOUT="1.5",
        WORKERS="1",
    ) as url:
        yield host_port(url)
