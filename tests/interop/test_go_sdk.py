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


def test_the_go_sdk_creates_finds_and_is_refused_as_the_vendor_would_answer():
    binary = build_interop_program()
    keys = {ACCESS_KEY_ID: {"SecretAccessKey": SECRET, "AppIds": [APP_ID]}}
    # Given the runner with signature auth on
    with local_runner(
        inherit_except=("DYNAMODB_ENDPOINT_URL", "AUTH_", "RATE_LIMIT"),
        AUTH_MODE="signature",
        AUTH_KEYS_JSON=json.dumps(keys),
        RATE_LIMIT_PER_SECOND="100000",
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
