"""`make serve`'s runner, driven by the README's own curl walk-through, exactly as written."""

from __future__ import annotations

import json
import os
import re
import shutil
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


def readme_curl_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    joined = re.sub(r"\\\n\s*", "", quick_start)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]


def test_readme_walkthrough_works_against_the_runner(runner_url: str) -> None:
    assert shutil.which("curl"), "the README's walk-through needs curl: apt-get install -y curl"
    # Given the README's curl commands, pointed at this test's runner
    commands = readme_curl_commands()
    assert len(commands) == 7
    answers = []
    for command in commands:
        # When each is run as written
        shell = command.replace("http://127.0.0.1:3000", runner_url)
        output = subprocess.run(
            ["bash", "-c", shell], capture_output=True, text=True, check=True, timeout=30
        ).stdout
        answers.append(json.loads(output))
    # Then: a group, a single chat, the same chat again, and four vendor errors
    group, single, again, malformed, missing, wrong_type, wrong_method = answers
    assert group["Result"]["Exist"] is False
    assert single["Result"]["Exist"] is False
    assert again["Result"]["Exist"] is True
    assert again["Result"]["ConversationShortId"] == single["Result"]["ConversationShortId"]
    codes = [a["ResponseMetadata"]["Error"]["Code"] for a in (malformed, missing, wrong_type)]
    assert codes == ["InvalidParameter", "MissingParameter", "InvalidParameter"]
    assert wrong_method["ResponseMetadata"]["Error"]["Code"] == "MethodNotAllowed"


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
