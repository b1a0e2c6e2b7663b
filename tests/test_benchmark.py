"""`make bench` in miniature, so the benchmark never rots. Timings are reported, never asserted:
this checks that a run writes every section, sane values and a chart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.capacity import capacity_of, item_size
from bench.instrument import Call, RawAnswer
from bench.report import evaluate_targets
from bench.workload import PATHS

REPO = Path(__file__).resolve().parent.parent
SECTIONS = {
    "meta",
    "requests_and_capacity",
    "warm_latency",
    "cpu",
    "cold_start",
    "package",
    "targets",
}
CONTENDERS = ("handler", "floor", "peer")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke_run(ddblocal_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "bench.run", "--iterations", "3", "--warmup", "1"]
    command += ["--cold-runs", "1", "--no-package", "--endpoint", ddblocal_endpoint]
    completed = subprocess.run(
        [*command, "--out", str(out)], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return {"out": out, "stdout": completed.stdout}


@pytest.mark.ddblocal
def test_a_smoke_run_writes_every_section_with_sane_values(smoke_run: dict[str, Any]) -> None:
    # Given a benchmark run of three creates per path, in its own interpreter as make bench does
    # When its results file is read
    results = json.loads((smoke_run["out"] / "results.json").read_text())

    # Then every section is there, every path was measured, and no number is absurd
    assert set(results) == SECTIONS
    assert results["package"] == {"skipped": True}
    for path in PATHS:
        for side in ("handler", "peer"):
            accounted = results["requests_and_capacity"][side][path.name]
            assert accounted["requests"] >= 1
            assert accounted["write_units"] >= 1
            assert accounted["read_units"] >= 0
        latency, cpu = results["warm_latency"][path.name], results["cpu"][path.name]
        for contender in CONTENDERS:
            assert latency[contender]["n"] == 3
            assert 0 < latency[contender]["p50"] <= latency[contender]["p95"]
            assert 0 < cpu[contender]["cpu_us"]["p50"] <= cpu[contender]["cpu_us"]["p95"]
    cold = results["cold_start"]
    for side in ("handler", "floor"):
        assert cold[side]["import_ms"]["p50"] > 0
        assert cold[side]["process_ms"]["p50"] > cold[side]["import_ms"]["p50"] * 0.5
    assert cold["importtime"]["total_ms"] > 0
    assert cold["importtime"]["by_package_ms"]


@pytest.mark.ddblocal
def test_a_smoke_run_judges_every_target_and_draws_the_chart(smoke_run: dict[str, Any]) -> None:
    # Given the same run
    results = json.loads((smoke_run["out"] / "results.json").read_text())

    # When its targets and outputs are looked at
    targets = results["targets"]

    # Then each of the 11 targets has a verdict, printed as a line, and the chart is a PNG
    assert len(targets) == 2 * len(PATHS) + 1
    assert all(isinstance(target["passed"], bool) for target in targets)
    verdict_lines = [
        line
        for line in smoke_run["stdout"].splitlines()
        if line.lstrip().startswith(("PASS", "FAIL"))
    ]
    assert len(verdict_lines) == len(targets)
    assert (smoke_run["out"] / "results.png").read_bytes().startswith(PNG_SIGNATURE)


def test_item_size_follows_the_documented_rules() -> None:
    # Given an item with a string, a number and a map, sized by hand per the Developer Guide:
    # "PK" 2 + "ab" 2; "N" 1 + 12345 (5 digits -> 3 bytes) + 1; "M" 1 + 3 + (1 + "k" 1 + "v" 1)
    item = {"PK": {"S": "ab"}, "N": {"N": "12345"}, "M": {"M": {"k": {"S": "v"}}}}

    # When it is sized
    size = item_size(item)

    # Then the sum is the hand-computed one
    assert size == 4 + 5 + 7


def test_a_transaction_is_charged_as_documented_whatever_the_engine_reports() -> None:
    # Given a committed two-item transaction that DynamoDB Local reported as 2 units
    put = {"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}}}}
    call = Call(
        operation="TransactWriteItems",
        params={"TransactItems": [put, put]},
        parsed={"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 2.0}]},
        answer=RawAnswer(200, {}, b"{}"),
    )

    # When its capacity is accounted
    use = capacity_of([call])

    # Then it costs 2 WCU per item, as AWS documents, and the engine's number is kept beside it
    assert (use.write_units, use.local_reported_units) == (4.0, 2.0)
    assert use.disagreements == frozenset({"TransactWriteItems"})


def test_targets_fail_when_a_new_conversation_takes_two_requests() -> None:
    # Given results where one new-conversation path made two requests and the rest are on target
    accounting = {path.name: {"requests": 1} for path in PATHS}
    accounting["new_group"] = {"requests": 2}
    latency = {path.name: {"handler": {"max_requests": 1}, "ratio_p50": 1.0} for path in PATHS}
    results = {
        "requests_and_capacity": {"handler": accounting},
        "warm_latency": latency,
        "cold_start": {"ratio_p50": 1.0},
    }

    # When the targets are judged
    failed = [target["name"] for target in evaluate_targets(results) if not target["passed"]]

    # Then exactly that path's request target fails
    assert failed == ["requests: new group"]
