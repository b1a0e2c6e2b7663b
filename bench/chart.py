"""The one-page chart of a benchmark run (results.png), drawn off-screen with matplotlib's Agg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot loads: no display, and the same output everywhere

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.warm import CONTENDERS, HANDLER, PEER
from bench.workload import PATHS

COLOURS = {HANDLER: "#1f77b4", "floor": "#9e9e9e", PEER: "#ff7f0e"}
NAMES = {HANDLER: "ours", "floor": "floor (bare boto3)", PEER: "peer (Powertools)"}
PASS, FAIL = "#2e7d32", "#c62828"
LABELS = [path.label.replace(" + ", "\n+ ").replace("existing ", "existing\n") for path in PATHS]


def draw(results: dict[str, Any], destination: Path) -> None:
    figure, axes = plt.subplots(2, 4, figsize=(24, 11))
    meta = results["meta"]
    passed = sum(target["passed"] for target in results["targets"])
    figure.suptitle(
        f"CreateConversation benchmark: {passed} of {len(results['targets'])} targets met\n"
        f"{meta['machine']['cpus']} CPUs, Python {meta['machine']['python']}, "
        f"{meta['dynamodb_local']} on loopback, {meta['iterations']} timed creates per path "
        f"and contender, {meta['date']}, commit {meta['commit']}",
        fontsize=13,
    )
    _requests(axes[0][0], results["requests_and_capacity"])
    _capacity(axes[0][1], results["requests_and_capacity"])
    _latency(axes[0][2], results["warm_latency"])
    _cpu(axes[0][3], results["cpu"])
    _cold_start(axes[1][0], results["cold_start"])
    _import_time(axes[1][1], results["cold_start"]["importtime"])
    _package(axes[1][2], results["package"])
    _targets(axes[1][3], results["targets"])
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    figure.savefig(destination, dpi=90)
    plt.close(figure)


def _grouped(
    ax: Axes,
    series: dict[str, list[float]],
    *,
    hatches: dict[str, list[bool]] | None = None,
    label_format: str = "%g",
) -> None:
    width = 0.8 / len(series)
    for index, (name, values) in enumerate(series.items()):
        positions = [p + (index - (len(series) - 1) / 2) * width for p in range(len(values))]
        bars = ax.bar(positions, values, width, color=COLOURS[name], label=NAMES[name])
        for bar, hatched in zip(
            bars, (hatches or {}).get(name, [False] * len(values)), strict=True
        ):
            if hatched:
                bar.set_hatch("//")
                bar.set_edgecolor("white")
        ax.bar_label(bars, fmt=label_format, fontsize=8, padding=1)
    ax.set_xticks(range(len(LABELS)), LABELS, fontsize=8)
    # Head room for the value labels and the legend above the tallest bar.
    ax.set_ylim(top=1.35 * max(max(values) for values in series.values()))
    ax.legend(fontsize=8, loc="upper left", ncols=len(series))


def _requests(ax: Axes, accounting: dict[str, Any]) -> None:
    series = {
        name: [accounting[name][p.name]["requests"] for p in PATHS] for name in (HANDLER, PEER)
    }
    _grouped(ax, series)
    ax.axhline(1, color=PASS, linestyle="--", linewidth=1)
    ax.set_title(
        "DynamoDB requests per create\ntarget: exactly 1 when new, at most 2 when existing"
    )
    ax.set_ylabel("requests")


def _capacity(ax: Axes, accounting: dict[str, Any]) -> None:
    series = {
        name: [accounting[name][p.name]["write_units"] for p in PATHS] for name in (HANDLER, PEER)
    }
    computed = {
        name: ["computed" in accounting[name][p.name]["capacity_source"] for p in PATHS]
        for name in (HANDLER, PEER)
    }
    _grouped(ax, series, hatches=computed)
    ax.set_title("Write capacity units per create\nhatched: computed from item sizes, not reported")
    ax.set_ylabel("WCU (no path reads)")


def _latency(ax: Axes, latency: dict[str, Any]) -> None:
    series = {name: [latency[p.name][name]["p50"] for p in PATHS] for name in CONTENDERS}
    _grouped(ax, series, label_format="%.1f")
    for index, path in enumerate(PATHS):
        ratio = latency[path.name]["ratio_p50"]
        ax.text(
            index,
            0.86,
            f"{ratio:.2f}x",
            transform=ax.get_xaxis_transform(),
            ha="center",
            fontsize=9,
            color=PASS if ratio <= 1.25 else FAIL,
            weight="bold",
        )
    ax.set_title("Warm latency p50, ms; above: ours / floor\ntarget: ours <= 1.25 x floor")
    ax.set_ylabel("ms per create, DynamoDB Local on loopback")


def _cpu(ax: Axes, cpu: dict[str, Any]) -> None:
    series = {
        name: [round(cpu[p.name][name]["cpu_us"]["p50"]) for p in PATHS] for name in CONTENDERS
    }
    _grouped(ax, series)
    ax.set_title("CPU per create p50, microseconds\nDynamoDB answered in-process (no target)")
    ax.set_ylabel("microseconds of CPU")


def _cold_start(ax: Axes, cold: dict[str, Any]) -> None:
    names = ["handler", "floor"]
    p50 = [cold[name]["import_ms"]["p50"] for name in names]
    p95 = [cold[name]["import_ms"]["p95"] for name in names]
    bars = ax.bar(
        ["handler.app ready", 'import boto3;\nboto3.client("dynamodb")'],
        p50,
        yerr=[[0, 0], [high - mid for high, mid in zip(p95, p50, strict=True)]],
        color=[COLOURS[HANDLER], COLOURS["floor"]],
        capsize=6,
    )
    ax.bar_label(bars, fmt="%.0f ms", label_type="center", color="white", weight="bold")
    limit = 1.5 * p50[1]
    ax.axhline(limit, color=PASS if p50[0] <= limit else FAIL, linestyle="--", linewidth=1)
    ax.annotate("target: 1.5 x floor", (1.4, limit), xytext=(0, 3), textcoords="offset points",
                ha="right", fontsize=8)  # fmt: skip
    ax.set_title(
        f"Cold start, import to ready: {cold['ratio_p50']:.2f} x floor\n"
        "bars p50, whiskers p95; target: handler <= 1.5 x floor"
    )
    ax.set_ylabel("ms in a fresh interpreter")


def _import_time(ax: Axes, importtime: dict[str, Any]) -> None:
    packages = [
        entry for entry in importtime["by_package_ms"].items() if entry[0] != "(all others)"
    ]
    packages = packages[:10][::-1]
    bars = ax.barh(
        [name for name, _ in packages], [ms for _, ms in packages], color=COLOURS[HANDLER]
    )
    ax.bar_label(bars, fmt="%.0f", fontsize=8, padding=2)
    ax.set_title("Where the handler's cold start goes\npython -X importtime, own ms by package")
    ax.set_xlabel("ms; handler.app init code = settings, Logger and creating the DynamoDB client")


def _package(ax: Axes, size: dict[str, Any]) -> None:
    if size.get("skipped"):
        ax.text(0.5, 0.5, "package size skipped (--no-package)", ha="center", va="center")
        ax.set_axis_off()
        return
    packages = list(size["largest_unzipped_mb"].items())[::-1]
    bars = ax.barh([name for name, _ in packages], [mb for _, mb in packages], color="#6a1b9a")
    ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    title = (
        f"Artifact, {size['runtime']} {size['architecture']}\n"
        f"{size['zipped_mb']:.1f} MB zipped, {size['unzipped_mb']:.1f} MB unzipped"
    )
    if "before" in size:
        before = size["before"]
        title += f" (before: {before['zipped_mb']:.1f} / {before['unzipped_mb']:.1f})"
        ax.text(
            0.98,
            0.04,
            f"unzip {before['unzip_ms']:.0f} -> {size['after']['unzip_ms']:.0f} ms\n"
            f"import handler {before['handler_import_ms']:.0f} -> "
            f"{size['after']['handler_import_ms']:.0f} ms\n"
            f"handler / floor, same artifact: {size['ratio_p50']:.2f}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
        )
    ax.set_title(title)
    ax.set_xlabel("MB unzipped, largest packages after the rule (docs/artifact.md)")


def _targets(ax: Axes, targets: list[dict[str, Any]]) -> None:
    ax.set_axis_off()
    ax.set_title("Targets (docs/benchmark.md explains each)")
    for row, target in enumerate(targets):
        verdict = "PASS" if target["passed"] else "FAIL"
        ax.text(
            0.0,
            1.0 - row * 0.085,
            f"{verdict}  {target['name']}: {target['measured']}\n        {target['target']}",
            transform=ax.transAxes,
            va="top",
            fontsize=9,
            family="monospace",
            color=PASS if target["passed"] else FAIL,
        )
