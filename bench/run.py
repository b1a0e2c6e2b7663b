"""`make bench`: measure every action and path end to end on this machine; write a table to
stdout, bench/results.json and bench/results.png. Exits 1 when a call makes more DynamoDB
requests than the contract allows; a missed timing target is printed as FAIL.

    python -m bench.run [--iterations N] [--warmup N] [--cold-runs N] [--import-runs N]
                        [--copy-iterations N] [--no-package] [--package-only]
                        [--endpoint http://127.0.0.1:PORT] [--out DIR]

Everything DynamoDB answers comes from Amazon DynamoDB Local on loopback, started here unless
--endpoint names one already running. See docs/benchmark.md for how to read the results.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import cold_start, copies, package
from bench.report import contract_broken, evaluate_targets, print_report
from bench.warm import WarmBench
from scripts import dynamodb_local

REPO = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=100, help="timed calls per scenario")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per scenario first")
    parser.add_argument("--cold-runs", type=int, default=10, help="fresh interpreters per side")
    parser.add_argument(
        "--import-runs", type=int, default=3, help="fresh interpreters per action module"
    )
    parser.add_argument(
        "--copy-iterations", type=int, default=40, help="timed writes per side, copies vs refs"
    )
    parser.add_argument("--no-package", action="store_true", help="skip building the artifact")
    parser.add_argument(
        "--package-only",
        action="store_true",
        help="only the package section, merged into --out's results.json (make bench-package)",
    )
    parser.add_argument("--endpoint", help="a DynamoDB Local already running on loopback")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="where results go")
    args = parser.parse_args(argv)
    if args.endpoint and urlsplit(args.endpoint).hostname not in LOOPBACK:
        parser.error("--endpoint must be on loopback (127.0.0.1)")
    if args.iterations < 2 or args.warmup < 0 or min(args.cold_runs, args.import_runs) < 1:
        parser.error("need --iterations >= 2, --warmup >= 0, --cold-runs and --import-runs >= 1")
    if args.copy_iterations < 1:
        parser.error("need --copy-iterations >= 1")
    return args


@contextlib.contextmanager
def dynamodb_endpoint(endpoint: str | None) -> Iterator[str]:
    if endpoint:
        yield endpoint
        return
    cache_dir = Path(os.environ.get("DYNAMODB_LOCAL_CACHE") or dynamodb_local.DEFAULT_CACHE_DIR)
    with dynamodb_local.running(cache_dir) as started:
        yield started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.package_only:
        return _package_only(args)
    results: dict[str, Any] = {"meta": _meta(args)}
    with dynamodb_endpoint(args.endpoint) as endpoint:
        warm = WarmBench(endpoint)
        try:
            _progress("requests and capacity")
            results["requests_and_capacity"] = warm.accounting()
            _progress(f"warm latency: {args.iterations} calls per scenario and contender")
            results["warm_latency"] = warm.latency(args.iterations, args.warmup)
            _progress("CPU per call, DynamoDB answered in-process")
            results["cpu"] = warm.cpu(args.iterations, args.warmup)
            _progress("records as copies: the same writes with 2 more items")
            results["copies"] = copies.measure(warm, args.copy_iterations)
        finally:
            warm.close()
    _progress(
        f"cold start: {args.cold_runs} fresh interpreters each, {args.import_runs} per action"
    )
    results["cold_start"] = cold_start.measure(args.cold_runs, args.import_runs)
    if args.no_package:
        results["package"] = {"skipped": True}
    else:
        _progress("package: the artifact before and after, its size, unzip and import times")
        results["package"] = package.measure(max(args.cold_runs, package.DEFAULT_RUNS))
    results["meta"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    return _write(results, args)


def _package_only(args: argparse.Namespace) -> int:
    """The package section alone, into the results of the last full run (which must exist)."""
    results = json.loads((args.out / "results.json").read_text())
    _progress("package: the artifact before and after, its size, unzip and import times")
    results["package"] = package.measure(max(args.cold_runs, package.DEFAULT_RUNS))
    results["meta"]["package_measured"] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "load_average": round(os.getloadavg()[0], 2),
    }
    return _write(results, args)


def _write(results: dict[str, Any], args: argparse.Namespace) -> int:
    results["targets"] = evaluate_targets(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    from bench.chart import draw  # noqa: PLC0415 - matplotlib only once there is something to draw

    draw(results, args.out / "results.png")
    print_report(results)
    return 1 if contract_broken(results["targets"]) else 0


def _progress(step: str) -> None:
    print(f"bench: {step} ...", file=sys.stderr, flush=True)


def _meta(args: argparse.Namespace) -> dict[str, Any]:
    versions = ("boto3", "botocore", "pydantic", "aws-lambda-powertools")
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "dynamodb_local": f"{dynamodb_local.PACKAGE}@{dynamodb_local.VERSION}",
        "versions": {name: metadata.version(name) for name in versions},
        # Other work on the machine slows every contender; the load says how busy it was.
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "iterations": args.iterations,
        "warmup": args.warmup,
        "cold_runs": args.cold_runs,
        "import_runs": args.import_runs,
        "copy_iterations": args.copy_iterations,
    }


def _commit() -> str:
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"],  # noqa: S607 - git from PATH, dev tooling
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return described.stdout.strip() or "unknown"


if __name__ == "__main__":
    sys.exit(main())
