"""The deployment artifact, before (the whole SDK) and after the rule of docs/artifact.md: its size
for template.yaml's runtime (python3.13, arm64), zipped and unzipped, and, built the same way for
this machine, the time to unpack it and to import the handler from it in a fresh interpreter.

    python -m bench.package [--runs N]   (make bench-package: this section alone)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from scripts.build_artifact import (
    LAMBDA_TARGET,
    TARGET_CACHE_TAG,
    TARGET_PLATFORM,
    TARGET_PYTHON_VERSION,
    BuildTools,
    Target,
    build_artifact,
    default_tools,
    find_bytecode_python,
    host_target,
    zip_artifact,
)

TOP_PACKAGES = 8
DEFAULT_RUNS = 15
HANDLER = "import handler.app"
# boto3 ships in the artifact (Powertools' parameters utility imports it), so the floor is the
# usual one, from the same artifact.
FLOOR = 'import boto3; boto3.client("dynamodb")'
_TIMED = "import time; t0 = time.perf_counter(); {code}; print(time.perf_counter() - t0)"
VARIANTS = {"before": False, "after": True}  # name -> slim


def measure(runs: int = DEFAULT_RUNS) -> dict[str, Any]:
    tools = default_tools()
    python = find_bytecode_python() or sys.executable
    result: dict[str, Any] = {
        "runtime": f"python{TARGET_PYTHON_VERSION}",
        "architecture": "arm64",
        "platform": TARGET_PLATFORM,
        "bytecode": TARGET_CACHE_TAG if tools.bytecode_python else "none",
        "built_by": "scripts/build_artifact.py (make build, sam build); before: build --full",
        "timed_with": f"host build for {host_target(python).name}, {runs} runs each, median",
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name, slim in VARIANTS.items():
            lambda_size = _size(Path(scratch) / f"{name}-lambda", tools, LAMBDA_TARGET, slim)
            timing = _timing(Path(scratch) / f"{name}-host", tools, host_target(python), slim, runs)
            result[name] = lambda_size | timing
    # The after's figures at the top level, as earlier runs wrote them (report, chart).
    after = result["after"]
    for key in ("files", "unzipped_mb", "zipped_mb", "largest_unzipped_mb"):
        result[key] = after[key]
    result["ratio_p50"] = round(after["handler_import_ms"] / after["floor_import_ms"], 3)
    return result


def _size(directory: Path, tools: BuildTools, target: Target, slim: bool) -> dict[str, Any]:
    artifact = build_artifact(directory / "artifact", tools, target=target, slim=slim)
    files = [path for path in artifact.rglob("*") if path.is_file()]
    by_package: dict[str, int] = defaultdict(int)
    for path in files:
        by_package[_package_of(path.relative_to(artifact))] += path.stat().st_size
    archive = zip_artifact(artifact, directory / "function.zip")
    ranked = sorted(by_package.items(), key=lambda entry: entry[1], reverse=True)
    return {
        "files": len(files),
        "unzipped_mb": _mb(sum(by_package.values())),
        "zipped_mb": _mb(archive.stat().st_size),
        "largest_unzipped_mb": {name: _mb(size) for name, size in ranked[:TOP_PACKAGES]},
    }


def _timing(
    directory: Path, tools: BuildTools, target: Target, slim: bool, runs: int
) -> dict[str, Any]:
    artifact = build_artifact(directory / "artifact", tools, target=target, slim=slim)
    archive = zip_artifact(artifact, directory / "function.zip")
    unzip_s = []
    for index in range(runs):
        started = time.perf_counter()
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(directory / f"unzipped-{index}")
        unzip_s.append(time.perf_counter() - started)
    task = directory / "unzipped-0"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(task),
        "PYTHONDONTWRITEBYTECODE": "1",  # /var/task is read-only: only shipped bytecode counts
        "TABLE_NAME": "bench-cold-start",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AUTH_MODE": "none",
    }
    samples: dict[str, list[float]] = {"handler": [], "floor": []}
    python = str(target.python)
    for code in (HANDLER, FLOOR):  # unmeasured: warms the page cache
        _import(python, code, env, task)
    for _ in range(runs):
        samples["handler"].append(_import(python, HANDLER, env, task))  # alternating
        samples["floor"].append(_import(python, FLOOR, env, task))
    return {
        "unzip_ms": round(statistics.median(unzip_s) * 1000, 1),
        "handler_import_ms": round(statistics.median(samples["handler"]) * 1000, 1),
        "floor_import_ms": round(statistics.median(samples["floor"]) * 1000, 1),
    }


def _import(python: str, code: str, env: dict[str, str], task: Path) -> float:
    done = subprocess.run(
        [python, "-S", "-s", "-P", "-c", _TIMED.format(code=code)],
        cwd=task,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.split()[-1])


def _package_of(relative: Path) -> str:
    top = relative.parts[0]
    for suffix in (".dist-info", ".libs"):
        top = top.removesuffix(suffix)
    return top.split("-")[0].removesuffix(".py")


def _mb(size: int) -> float:
    return round(size / 1_000_000, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="timed runs per side")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
