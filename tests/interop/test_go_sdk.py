"""The vendor's official Go SDK (service/im, v1.0.253) as a client of `make serve`'s runner.

The SDK source is the shared vendor folder (`<repo>/../shared/vendor-sdk`, see its README),
unpacked into .cache/ and built offline against Debian's Go packages; nothing of it is copied
into the repository. It sends every body chunked and signs its own X-Im-Sdk-Version header.
Where the folder is absent (a user's clone), the test says so as a skip with that reason; where
it exists, a missing Go toolchain is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.servers import local_runner

REPO = Path(__file__).resolve().parents[2]
VENDOR = REPO.parent / "shared" / "vendor-sdk"
ARCHIVE = VENDOR / "volc-sdk-golang-base-im.tar.gz"
CACHE = REPO / ".cache"
SDK_DIR = CACHE / "vendor-sdk"
PROGRAM = REPO / "tests" / "interop" / "go"
BINARY = CACHE / "go-interop" / "interop"
ACCESS_KEY_ID, SECRET, APP_ID = "AKLTgosdk", "Z28tc2RrLXNlY3JldA==", 10  # a test key
# The unpacked folders' own module file: only what base/ and service/im/ import.
SDK_GO_MOD = """module github.com/volcengine/volc-sdk-golang

go 1.19

require (
\tgithub.com/cenkalti/backoff/v4 v4.0.0
\tgithub.com/google/uuid v1.0.0
\tgolang.org/x/net v0.0.0
)
"""

pytestmark = pytest.mark.skipif(
    not ARCHIVE.is_file(),
    reason=f"the vendor Go SDK is not at {VENDOR}, so the Go SDK interop test did not run",
)


def build_interop_program() -> Path:
    go = shutil.which("go")
    assert go, "the vendor SDK is here but Go is not: run scripts/install-system-deps.sh"
    if not (SDK_DIR / "service" / "im" / "client.go").is_file():
        SDK_DIR.mkdir(parents=True, exist_ok=True)
        with tarfile.open(ARCHIVE) as archive:
            archive.extractall(SDK_DIR, filter="data")
    (SDK_DIR / "go.mod").write_text(SDK_GO_MOD, encoding="utf-8")
    env = {
        **os.environ,
        "GOPROXY": "off",
        "GOFLAGS": "-mod=mod",
        "GOSUMDB": "off",
        "GOCACHE": str(CACHE / "go-build"),
        "GOPATH": str(CACHE / "gopath"),
    }
    subprocess.run(
        [go, "build", "-o", str(BINARY), "."],
        cwd=PROGRAM,
        env=env,
        check=True,
        timeout=600,
        capture_output=True,
        text=True,
    )
    return BINARY


def error_code(text: str) -> str:
    """The Code of the envelope an SDK error carries (`api … http code N body {…}`)."""
    return json.loads(text[text.index("{") :])["ResponseMetadata"]["Error"]["Code"]


@pytest.fixture(scope="module")
def binary() -> Path:
    return build_interop_program()


def test_the_go_sdk_creates_finds_and_is_refused_as_the_vendor_would_answer(binary: Path):
    keys = {ACCESS_KEY_ID: {"SecretAccessKey": SECRET, "AppIds": [APP_ID]}}
    # Given the runner with signature auth on
    with local_runner(
        inherit_except=("DYNAMODB_ENDPOINT_URL", "AUTH_", "RATE_LIMIT"),
        AUTH_MODE="signature",
        AUTH_KEYS_JSON=json.dumps(keys),
        RATE_LIMIT_WRITE_PER_SECOND="100000",
        RATE_LIMIT_READ_PER_SECOND="100000",
    ) as url:
        # When the Go program runs its scenario through the SDK
        result = subprocess.run(
            [str(binary), urlsplit(url).netloc, ACCESS_KEY_ID, SECRET, str(APP_ID)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    steps = {line["step"]: line for line in map(json.loads, result.stdout.splitlines())}
    # Then a group and a single chat are created, and the chat is found in the other order
    for name in ("group", "single", "idempotent-first"):
        assert "error" not in steps[name], steps[name]
        assert steps[name]["exist"] is False
    assert steps["single-reversed"]["exist"] is True
    assert steps["single-reversed"]["short_id"] == steps["single"]["short_id"]
    # And the IdempotentId returns the same conversation
    assert steps["idempotent-again"]["exist"] is True
    assert steps["idempotent-again"]["short_id"] == steps["idempotent-first"]["short_id"]
    # And an invalid type and a wrong secret come back as the vendor's codes
    assert error_code(steps["invalid-type"]["error"]) in {"InvalidParameter", "InvalidParam"}
    assert error_code(steps["wrong-secret"]["error"]) == "SignatureDoesNotMatch"


@pytest.mark.ddblocal
def test_the_go_sdk_runs_a_groups_whole_life_through_the_runner_on_dynamodb_local(
    binary: Path, ddblocal_endpoint: str
):
    keys = {ACCESS_KEY_ID: {"SecretAccessKey": SECRET, "AppIds": [APP_ID]}}
    # Given the runner with signature auth on, over Amazon DynamoDB Local
    with local_runner(
        inherit_except=("DYNAMODB_ENDPOINT_URL", "AUTH_", "RATE_LIMIT"),
        DYNAMODB_ENDPOINT_URL=ddblocal_endpoint,
        AUTH_MODE="signature",
        AUTH_KEYS_JSON=json.dumps(keys),
    ) as url:
        # When the Go program runs a group's life through the SDK's own methods
        done = subprocess.run(
            [str(binary), urlsplit(url).netloc, ACCESS_KEY_ID, SECRET, str(APP_ID), "life"],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    steps = {line["step"]: line for line in map(json.loads, done.stdout.splitlines())}
    results = {name: step["answer"]["Result"] for name, step in steps.items() if "answer" in step}
    # Then every step but the last succeeded, and decoded into the SDK's own types
    assert set(results) == set(steps) - {"count-after-destroy"}, steps
    group = results["create"]["ConversationShortId"]
    owner = results["create"]["ConversationInfo"]["OwnerUserId"]
    first, second, third = owner + 1, owner + 2, owner + 3
    assert results["add"]["FailedUserIds"] == []
    # the scan pages in joining order, its cursor fitting the SDK's int32
    assert [p["ParticipantUserId"] for p in results["scan"]["Participants"]] == [owner, first]
    assert results["scan"]["HasMore"] is True
    assert 0 < results["scan"]["NextCursor"] < 2**31
    assert [p["ParticipantUserId"] for p in results["scan-next"]["Participants"]] == [
        second,
        third,
    ]
    assert results["scan-next"]["NextCursor"] == -1
    assert results["modify-members"]["FailedUserIds"] == []
    roles = {p["ParticipantUserId"]: p["Role"] for p in results["get-members"]["Participants"]}
    assert roles == {owner: 1, second: 2, third: 0}
    levels = {
        p["ParticipantUserId"]: p.get("Level") for p in results["get-members"]["Participants"]
    }
    assert levels[third] == 3
    # the new owner cannot be removed; the manager can
    assert results["remove"]["FailedUserIds"] == [first]
    assert results["count"]["Count"] == 3
    assert results["is-removed-member"]["IsUserInConversation"] is False
    assert results["is-member"]["IsUserInConversation"] is True
    info = results["batch-get"]["ConversationCoreInfos"][0]
    assert (info["Name"], info["OwnerUserId"], info["MemberCount"]) == (
        "go-sdk team (renamed)",
        first,
        3,
    )
    listed = [c["ConversationShortId"] for c in results["user-conversations"]["ConversationInfos"]]
    assert listed == [group]
    # and after the dissolve the group is gone, as the SDK reports a vendor error
    assert error_code(steps["count-after-destroy"]["error"]) == "ConversationNotFound"
