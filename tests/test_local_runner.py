"""`make serve`'s runner, driven by the README's own curl walk-through, exactly as written."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def runner_port() -> Iterator[int]:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "scripts/local_server.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"runner exited early:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("runner did not start listening")


def readme_curl_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    joined = re.sub(r"\\\n\s*", "", quick_start)
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]


def test_readme_walkthrough_works_against_the_runner(runner_port: int) -> None:
    assert shutil.which("curl"), "the README's walk-through needs curl: apt-get install -y curl"
    # Given the README's curl commands, pointed at this test's port
    commands = readme_curl_commands()
    assert len(commands) == 7
    answers = []
    for command in commands:
        # When each is run as written
        shell = command.replace("127.0.0.1:3000", f"127.0.0.1:{runner_port}")
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
