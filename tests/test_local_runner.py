"""`make serve`'s runner and `make invoke` (the walk-through: test_readme_walkthrough.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import local_runner

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runner_url() -> Iterator[str]:
    with local_runner(inherit_except=("DYNAMODB_ENDPOINT_URL",)) as url:
        yield url


def test_invoke_runs_one_event_file() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DYNAMODB_ENDPOINT_URL"}
    output = subprocess.run(
        [sys.executable, "scripts/invoke.py", "events/single-chat.json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    response = json.loads(output)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["Result"]["Exist"] is False
