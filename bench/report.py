"""The issue's targets, judged from the results, and the table `make bench` prints."""

from __future__ import annotations

from typing import Any

from bench.warm import CONTENDERS, FLOOR, HANDLER, PEER
from bench.workload import PATHS

MAX_REQUESTS_EXISTING = 2
MAX_LATENCY_RATIO = 1.25
MAX_COLD_START_RATIO = 1.5
MAX_ZIPPED_MB = 8.0
MAX_ARTIFACT_COLD_START_RATIO = 1.2


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    targets = []
    accounting, latency = results["requests_and_capacity"][HANDLER], results["warm_latency"]
    for path in PATHS:
        # The most requests any create of this path made, while accounted or while timed.
        requests = max(
            accounting[path.name]["requests"], latency[path.name][HANDLER]["max_requests"]
        )
        if path.creates_new:
            passed, goal = requests == 1, "exactly 1 DynamoDB request"
        else:
            passed = requests <= MAX_REQUESTS_EXISTING
            goal = f"at most {MAX_REQUESTS_EXISTING} DynamoDB requests"
        targets.append(_target(f"requests: {path.label}", requests, goal, passed))
    for path in PATHS:
        ratio = latency[path.name]["ratio_p50"]
        targets.append(
            _target(
                f"warm latency: {path.label}",
                ratio,
                f"handler p50 <= {MAX_LATENCY_RATIO} x floor p50",
                ratio <= MAX_LATENCY_RATIO,
            )
        )
    cold_ratio = results["cold_start"]["ratio_p50"]
    targets.append(
        _target(
            "cold start",
            cold_ratio,
            f"handler import p50 <= {MAX_COLD_START_RATIO} x floor p50",
            cold_ratio <= MAX_COLD_START_RATIO,
        )
    )
    size = results["package"]
    if not size.get("skipped") and "after" in size:
        zipped = size["after"]["zipped_mb"]
        targets.append(
            _target("artifact zipped MB", zipped, f"<= {MAX_ZIPPED_MB}", zipped <= MAX_ZIPPED_MB)
        )
        ratio = size["ratio_p50"]
        targets.append(
            _target(
                "cold start from the artifact",
                ratio,
                f"handler import p50 <= {MAX_ARTIFACT_COLD_START_RATIO} x floor p50, same artifact",
                ratio <= MAX_ARTIFACT_COLD_START_RATIO,
            )
        )
    return targets


def _target(name: str, measured: float, goal: str, passed: bool) -> dict[str, Any]:
    return {"name": name, "measured": measured, "target": goal, "passed": passed}


def print_report(results: dict[str, Any]) -> None:
    meta = results["meta"]
    machine = meta["machine"]
    print(
        f"\nCreateConversation benchmark  {meta['date']}  commit {meta['commit']}\n"
        f"{machine['platform']}, {machine['cpus']} CPUs, Python {machine['python']}, "
        f"{meta['dynamodb_local']} on loopback; {meta['iterations']} timed creates per path "
        f"after {meta['warmup']} warm-up; load average {meta['load_average_at_start']} at start, "
        f"{meta['load_average_at_end']} at end\n"
    )
    _print_accounting(results["requests_and_capacity"])
    _print_latency(results["warm_latency"])
    _print_cpu(results["cpu"])
    _print_cold_start(results["cold_start"])
    _print_package(results["package"])
    print("Targets")
    for target in results["targets"]:
        verdict = "PASS" if target["passed"] else "FAIL"
        print(f"  {verdict}  {target['name']}: {target['measured']} (target: {target['target']})")
    print()


def _table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print(title)
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  " + "  ".join(cells))
    print()


def _print_accounting(accounting: dict[str, Any]) -> None:
    rows = []
    for path in PATHS:
        ours, peer = accounting[HANDLER][path.name], accounting[PEER][path.name]
        rows.append(
            [
                path.label,
                str(ours["requests"]),
                f"{ours['write_units']:g}",
                f"{ours['read_units']:g}",
                ours["capacity_source"],
                str(peer["requests"]),
                f"{peer['write_units']:g}",
                f"{peer['read_units']:g}",
                peer["capacity_source"],
            ]
        )
    header = [
        "per create",
        "requests",
        "WCU",
        "RCU",
        "capacity",
        "peer requests",
        "WCU",
        "RCU",
        "capacity",
    ]
    _table("Requests and capacity (ours | Powertools peer)", header, rows)


def _print_latency(latency: dict[str, Any]) -> None:
    rows = [
        [path.label]
        + [
            f"{latency[path.name][name]['p50']:.2f} / {latency[path.name][name]['p95']:.2f}"
            for name in CONTENDERS
        ]
        + [f"{latency[path.name]['ratio_p50']:.2f}"]
        for path in PATHS
    ]
    header = ["warm, ms p50 / p95", "handler", "floor (bare boto3)", "peer", "handler/floor"]
    _table("Warm latency against DynamoDB Local", header, rows)


def _print_cpu(cpu: dict[str, Any]) -> None:
    rows = []
    for path in PATHS:
        entry = cpu[path.name]
        own = entry[HANDLER]["cpu_us"]["p50"] - entry[FLOOR]["cpu_us"]["p50"]
        rows.append(
            [path.label]
            + [
                f"{entry[name]['cpu_us']['p50']:.0f} / {entry[name]['cpu_us']['p95']:.0f}"
                for name in CONTENDERS
            ]
            + [f"{own:.0f}"]
        )
    header = ["CPU, us p50 / p95", "handler", "floor (bare boto3)", "peer", "handler - floor"]
    _table("CPU per create, DynamoDB answered in-process", header, rows)


def _print_cold_start(cold: dict[str, Any]) -> None:
    measures = ("import_ms", "import_cpu_ms", "process_ms")
    rows = [
        [name] + [f"{cold[name][m]['p50']:.0f} / {cold[name][m]['p95']:.0f}" for m in measures]
        for name in ("handler", "floor")
    ]
    header = ["cold start, ms p50 / p95", "import to ready", "of it CPU", "whole process"]
    title = (
        f"Cold start (handler / floor: {cold['ratio_p50']:.2f} wall, "
        f"{cold['ratio_p50_cpu']:.2f} CPU)"
    )
    _table(title, header, rows)
    importtime = cold["importtime"]
    packages = list(importtime["by_package_ms"].items())[:7]
    total = importtime["total_ms"]
    print(f"  where the handler's import goes (python -X importtime, {total:.0f} ms in all):")
    print("    " + ", ".join(f"{name} {ms:.0f}" for name, ms in packages))
    print("    largest single modules (self ms): " + ", ".join(
        f"{entry['module']} {entry['self_ms']:.0f}" for entry in importtime["top_modules"][:6]
    ))  # fmt: skip
    print()


def _print_package(size: dict[str, Any]) -> None:
    if size.get("skipped"):
        print("Package size: skipped (--no-package)\n")
        return
    print(
        f"Package ({size['runtime']}, {size['architecture']}, bytecode {size['bytecode']}): "
        f"{size['zipped_mb']} MB zipped, {size['unzipped_mb']} MB unzipped, {size['files']} files"
    )
    print(
        "  largest (MB unzipped): "
        + ", ".join(f"{k} {v}" for k, v in size["largest_unzipped_mb"].items())
    )
    if "before" in size:
        for name in ("before", "after"):
            entry = size[name]
            print(
                f"  {name}: {entry['zipped_mb']} MB zipped, {entry['unzipped_mb']} MB unzipped, "
                f"{entry['files']} files; unzip {entry['unzip_ms']} ms; import handler "
                f"{entry['handler_import_ms']} ms, floor {entry['floor_import_ms']} ms"
            )
        print(f"  ({size['timed_with']})")
    print()
