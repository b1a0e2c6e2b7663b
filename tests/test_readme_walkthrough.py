"""The README's walk-through, run exactly as written against `make serve`'s runner."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import local_runner

REPO = Path(__file__).resolve().parent.parent
README_URL = "http://127.0.0.1:3000"


@pytest.fixture(scope="module")
def runner_url() -> Iterator[str]:
    with local_runner(inherit_except=("DYNAMODB_ENDPOINT_URL",)) as url:
        yield url


def walkthrough_script() -> str:
    """The Quick start's second shell block: the one to paste while `make serve` runs."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in quick_start.split("```sh\n")[1:]]
    assert len(blocks) == 2, "the Quick start has the set-up block and the walk-through block"
    return blocks[1]


def run_walkthrough(url: str) -> list[dict[str, Any]]:
    script = "set -euo pipefail\n" + walkthrough_script().replace(README_URL, url)
    output = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def result(answer: dict[str, Any]) -> Any:
    assert "Error" not in answer["ResponseMetadata"], answer
    return answer["Result"]


def code(answer: dict[str, Any]) -> str:
    return str(answer["ResponseMetadata"]["Error"]["Code"])


def test_readme_walkthrough_runs_a_groups_whole_life(runner_url: str) -> None:
    assert shutil.which("curl"), "the README's walk-through needs curl: apt-get install -y curl"
    # Given the runner on an empty embedded table
    # When the README's walk-through runs as written
    answers = run_walkthrough(runner_url)
    # Then every action answers as the contract says, in the order the README tells it
    actions = [answer["ResponseMetadata"]["Action"] for answer in answers]
    assert actions == [
        "CreateConversation",
        "BatchGetConversations",
        "GetUserConversations",
        "BatchAddConversationParticipant",
        "ScanConversationParticipantList",
        "BatchModifyConversationParticipant",
        "ModifyConversation",
        "BatchDeleteConversationParticipant",
        "GetConversationUserCount",
        "IsUserInConversation",
        "BatchGetConversationParticipant",
        "DestroyConversation",
        "BatchGetConversations",
        "CreateConversation",
        "CreateConversation",
        "CreateConversation",
        "CreateConversation",
        "GetConversationUserCount",
        "CreateConversations",
        "CreateConversation",
    ]
    (again, both, second_page, added, scan_page, modified, renamed, deleted, count, member,
     two, destroyed, after, recreated, malformed, missing, wrong_type, gone, unknown,
     wrong_method) = answers  # fmt: skip
    assert result(again)["Exist"] is True
    single_id = result(again)["ConversationShortId"]
    group, single = result(both)["ConversationCoreInfos"]
    assert (group["ConversationType"], group["Name"], group["MemberCount"]) == (2, "team", 1)
    assert single["ConversationShortId"] == single_id
    # 10001's conversations, newest first, one a page: the group (created first) is page two
    listed = result(second_page)["ConversationInfos"]
    assert [info["ConversationShortId"] for info in listed] == [group["ConversationShortId"]]
    assert result(second_page)["HasMore"] is False
    assert result(second_page)["NextCursor"] == -1
    assert result(added) == {"FailedUserIds": []}
    # page two of the scan, in joining order: 10003 then 10004, and nothing after
    scanned = result(scan_page)
    assert [p["ParticipantUserId"] for p in scanned["Participants"]] == [10003, 10004]
    assert scanned["Participants"][0]["NickName"] == "carol"
    assert (scanned["HasMore"], scanned["NextCursor"]) == (False, -1)
    assert result(modified) == {"FailedUserIds": []}
    assert result(renamed) == {}
    # the new owner 10002 cannot be removed; 10003 is
    assert result(deleted) == {"FailedUserIds": [10002]}
    assert result(count) == {"Count": 3}
    assert result(member) == {"IsUserInConversation": False}
    roles = {p["ParticipantUserId"]: p["Role"] for p in result(two)["Participants"]}
    assert roles == {10001: 0, 10002: 1}
    assert result(destroyed) == {}
    assert result(after) == {"ConversationCoreInfos": []}
    assert result(recreated)["Exist"] is False
    assert result(recreated)["ConversationShortId"] != group["ConversationShortId"]
    assert [code(a) for a in (malformed, missing, wrong_type, gone, unknown, wrong_method)] == [
        "JsonParsingError",
        "InvalidParam",
        "InvalidParam",
        "ConversationNotFound",
        "InvalidActionOrVersion",
        "MethodNotAllowed",
    ]
    assert "leading zeros" in malformed["ResponseMetadata"]["Error"]["Message"]
