"""Cold start: from a fresh interpreter to the handler module imported and ready, against the
floor of any Python function that talks to DynamoDB, `import boto3; boto3.client("dynamodb")`.

The router imports an action's module on the first request for it (handler/api.py), so a
sandbox's cold start is `import handler.app` plus the module of the action it serves first. The
target is judged on the worst case, a sandbox with every action module imported; each module's
own import, after handler.app, is measured on its own in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.stats import summary

REPO = Path(__file__).resolve().parent.parent
HANDLER = "import handler.app"
EVERY_ACTION = (
    "import importlib, handler.app, handler.api; "
    "[importlib.import_module('handler.actions.' + m) for m in sorted(handler.api._ACTION_MODULES)]"
)
FLOOR = 'import boto3; boto3.client("dynamodb")'
EVERY, LAZY = "handler + every action", "handler.app"
SIDES = {EVERY: EVERY_ACTION, LAZY: HANDLER, "floor": FLOOR}
# An action module's import as its first request pays it: handler.app is imported untimed first.
_ACTION_TIMED = (
    "import importlib, time, handler.app; t0, c0 = time.perf_counter(), time.process_time(); "
    "importlib.import_module('handler.actions.{module}'); "
    "print(time.perf_counter() - t0, time.process_time() - c0)"
)
# Timed inside the child, so interpreter start-up (the same for both) is left out of the ratio.
# CPU time beside wall time: on a busy machine it shows how much of the wall was waiting.
_TIMED = (
    "import time; t0, c0 = time.perf_counter(), time.process_time(); {code}; "
    "print(time.perf_counter() - t0, time.process_time() - c0)"
)
_IMPORTTIME_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
TOP_ENTRIES = 12
# handler.app's own time is its module code, not imports: settings, the Logger, and creating the
# DynamoDB client (loading its service model), which is the floor's boto3.client() as well.
HANDLER_INIT = "handler.app init code"


def _environment() -> dict[str, str]:
    """What a Lambda sandbox has: a region and a table name, no endpoint override."""
    env = dict(os.environ)
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode is cached, as the artifact ships it
    env.update(
        TABLE_NAME="bench-cold-start",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        # The actions alone; docs/auth.md measures what signature auth adds.
        AUTH_MODE="none",
    )
    return env


def _run(
    code: str, env: dict[str, str], *options: str, timed: str | None = None
) -> tuple[list[float], float, str]:
    """([wall, CPU] seconds inside the child, seconds from spawn to exit, the child's stderr)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *options, "-c", timed or _TIMED.format(code=code)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    inside = [float(seconds) for seconds in done.stdout.split()]
    return inside, time.perf_counter() - started, done.stderr


def action_modules() -> list[str]:
    from handler.api import _ACTION_MODULES  # noqa: PLC0415 - only the list of names

    return sorted(_ACTION_MODULES)


def measure_action_imports(runs: int, env: dict[str, str]) -> dict[str, Any]:
    """Each action module's own import after handler.app, in fresh interpreters, alternating."""
    samples: dict[str, list[float]] = {module: [] for module in action_modules()}
    for _ in range(runs):
        for module, values in samples.items():
            (wall, _cpu), _, _ = _run("", env, timed=_ACTION_TIMED.format(module=module))
            values.append(wall * 1000)
    return {module: {"import_ms": summary(values, 2)} for module, values in samples.items()}


def measure(runs: int, import_runs: int = 5) -> dict[str, Any]:
    env = _environment()
    for code in SIDES.values():  # unmeasured: compiles bytecode and warms the page cache
        _run(code, env)
    samples: dict[str, dict[str, list[float]]] = {
        name: {"import_ms": [], "import_cpu_ms": [], "process_ms": []} for name in SIDES
    }
    for _ in range(runs):
        for name, code in SIDES.items():  # alternating, so drift in load hits both sides
            (wall, cpu), process, _ = _run(code, env)
            samples[name]["import_ms"].append(wall * 1000)
            samples[name]["import_cpu_ms"].append(cpu * 1000)
            samples[name]["process_ms"].append(process * 1000)
    result: dict[str, Any] = {
        "sides": {
            name: {measure: summary(values, 1) for measure, values in measures.items()}
            for name, measures in samples.items()
        }
    }
    ratios = (
        ("ratio_p50", EVERY, "import_ms"),
        ("ratio_p50_cpu", EVERY, "import_cpu_ms"),
        ("ratio_p50_lazy", LAZY, "import_ms"),
    )
    for key, side, measure in ratios:
        ratio = result["sides"][side][measure]["p50"] / result["sides"]["floor"][measure]["p50"]
        result[key] = round(ratio, 3)
    result["action_imports"] = measure_action_imports(import_runs, env)
    result["ratio_p50_first_request"] = first_request_ratio(result)
    result["importtime"] = where_time_goes(_run(EVERY_ACTION, env, "-X", "importtime")[2])
    return result


def first_request_ratio(result: dict[str, Any]) -> float:
    """A sandbox's real cold start over the floor: handler.app, then its first request's action
    module, the slowest of the twelve (the router imports no other)."""
    slowest = max(entry["import_ms"]["p50"] for entry in result["action_imports"].values())
    handler = result["sides"][LAZY]["import_ms"]["p50"] + slowest
    return round(handler / result["sides"]["floor"]["import_ms"]["p50"], 3)


def where_time_goes(importtime_report: str) -> dict[str, Any]:
    """`python -X importtime` output, summed by top-level package and listed by own time."""
    modules: list[tuple[str, float, float]] = []
    for line in importtime_report.splitlines():
        match = _IMPORTTIME_LINE.match(line)
        if match:
            own_us, cumulative_us, _indent, name = match.groups()
            modules.append((name, int(own_us) / 1000, int(cumulative_us) / 1000))
    by_package: dict[str, float] = defaultdict(float)
    for name, own_ms, _ in modules:
        by_package[_group(name)] += own_ms
    ranked = sorted(by_package.items(), key=lambda entry: entry[1], reverse=True)
    shown = dict(ranked[:TOP_ENTRIES])
    shown["(all others)"] = sum(ms for _, ms in ranked[TOP_ENTRIES:])
    top = sorted(modules, key=lambda module: module[1], reverse=True)[:TOP_ENTRIES]
    return {
        "total_ms": round(sum(by_package.values()), 1),
        "by_package_ms": {name: round(ms, 1) for name, ms in shown.items()},
        "top_modules": [
            {"module": name, "self_ms": round(own, 1), "cumulative_ms": round(cumulative, 1)}
            for name, own, cumulative in top
        ],
    }


def _group(module: str) -> str:
    return HANDLER_INIT if module == "handler.app" else module.split(".", maxsplit=1)[0]
