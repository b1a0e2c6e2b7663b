"""The one-page chart of a benchmark run (results.png), drawn off-screen with matplotlib's Agg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot loads: no display, and the same output everywhere

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.report import MAX_COLD_START_RATIO, MAX_LATENCY_RATIO, measured_requests
from bench.warm import CONTENDERS, FLOOR, HANDLER
from bench.workload import ADD_BATCH_SIZES, SCENARIOS

COLOURS = {HANDLER: "#1f77b4", FLOOR: "#9e9e9e"}
NAMES = {HANDLER: "handler", FLOOR: "floor (bare boto3)"}
PASS, FAIL = "#2e7d32", "#c62828"
LABELS = [scenario.label for scenario in SCENARIOS]


def draw(results: dict[str, Any], destination: Path) -> None:
    figure, axes = plt.subplots(2, 5, figsize=(35, 14))
    meta = results["meta"]
    passed = sum(target["passed"] for target in results["targets"])
    figure.suptitle(
        f"Conversation API benchmark, {len(SCENARIOS)} scenarios over 12 actions: "
        f"{passed} of {len(results['targets'])} targets met\n"
        f"{meta['machine']['cpus']} CPUs (shared, load {meta['load_average_at_start']} -> "
        f"{meta['load_average_at_end']}), Python {meta['machine']['python']}, "
        f"{meta['dynamodb_local']} on loopback, {meta['iterations']} timed calls per scenario "
        f"and contender, {meta['date']}, commit {meta['commit']}",
        fontsize=13,
    )
    _requests(axes[0][0], results)
    _capacity(axes[0][1], results["requests_and_capacity"])
    _latency(axes[0][2], results["warm_latency"])
    _cpu(axes[0][3], results["cpu"])
    _batch_growth(axes[1][0], results)
    _cold_start(axes[1][1], results["cold_start"])
    _action_imports(axes[1][2], results["cold_start"]["action_imports"])
    _copies_and_targets(axes[1][3], results)
    _package(axes[0][4], results["package"])
    axes[1][4].set_axis_off()
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    figure.savefig(destination, dpi=80)
    plt.close(figure)


def _horizontal(ax: Axes, series: dict[str, list[float]], colours: dict[str, str]) -> None:
    height = 0.8 / len(series)
    for index, (name, values) in enumerate(series.items()):
        positions = [p + (index - (len(series) - 1) / 2) * height for p in range(len(values))]
        bars = ax.barh(positions, values, height, color=colours[name], label=name)
        ax.bar_label(bars, fmt="%g", fontsize=7, padding=1)
    ax.set_yticks(range(len(LABELS)), LABELS, fontsize=8)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")


def _requests(ax: Axes, results: dict[str, Any]) -> None:
    measured = [measured_requests(results, scenario) for scenario in SCENARIOS]
    limits = [scenario.max_requests for scenario in SCENARIOS]
    colours = [PASS if m <= limit else FAIL for m, limit in zip(measured, limits, strict=True)]
    bars = ax.barh(range(len(SCENARIOS)), measured, 0.6, color=colours)
    ax.bar_label(bars, fmt="%g", fontsize=8, padding=2)
    ax.scatter(limits, range(len(SCENARIOS)), marker="|", s=300, color="black", zorder=3,
               label="contract's limit (actions.md)")  # fmt: skip
    ax.set_yticks(range(len(LABELS)), LABELS, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("DynamoDB requests per call\n(green within the contract, red over it)")


def _capacity(ax: Axes, accounting: dict[str, Any]) -> None:
    series = {
        "WCU, table": [accounting[s.name]["write_units"] for s in SCENARIOS],
        "WCU, indexes": [accounting[s.name]["index_write_units"] for s in SCENARIOS],
        "RCU": [accounting[s.name]["read_units"] for s in SCENARIOS],
    }
    _horizontal(ax, series, {"WCU, table": "#6a1b9a", "WCU, indexes": "#ba68c8", "RCU": "#00897b"})
    ax.set_xscale("symlog", linthresh=10)
    ax.set_title(
        "Capacity units per call (symlog)\ntransactions and refused writes computed by AWS's rules"
    )


def _latency(ax: Axes, latency: dict[str, Any]) -> None:
    series = {NAMES[name]: [latency[s.name][name]["p50"] for s in SCENARIOS] for name in CONTENDERS}
    _horizontal(ax, series, {NAMES[name]: COLOURS[name] for name in CONTENDERS})
    ax.set_xscale("log")
    right = ax.get_xlim()[1]
    for index, scenario in enumerate(SCENARIOS):
        ratio = latency[scenario.name]["ratio_p50"]
        ax.text(right, index, f" {ratio:.2f}x", va="center", fontsize=8, weight="bold",
                color=PASS if ratio <= MAX_LATENCY_RATIO else FAIL)  # fmt: skip
    ax.set_title(
        "Warm latency p50, ms, log scale (right: handler / floor)\n"
        f"target <= {MAX_LATENCY_RATIO} x floor"
    )


def _cpu(ax: Axes, cpu: dict[str, Any]) -> None:
    series = {
        NAMES[name]: [round(cpu[s.name][name]["cpu_us"]["p50"]) for s in SCENARIOS]
        for name in CONTENDERS
    }
    _horizontal(ax, series, {NAMES[name]: COLOURS[name] for name in CONTENDERS})
    ax.set_title("CPU per call p50, microseconds\nDynamoDB answered in-process (no target)")


def _batch_growth(ax: Axes, results: dict[str, Any]) -> None:
    names = [f"add_new_{size}" for size in ADD_BATCH_SIZES]
    accounting, latency = results["requests_and_capacity"], results["warm_latency"]
    wcu = [accounting[n]["write_units"] + accounting[n]["index_write_units"] for n in names]
    ax.plot(ADD_BATCH_SIZES, wcu, marker="o", color="#6a1b9a", label="WCU (table + indexes)")
    for size, units in zip(ADD_BATCH_SIZES, wcu, strict=True):
        ax.annotate(f"{units:g}", (size, units), xytext=(4, 4), textcoords="offset points",
                    fontsize=8)  # fmt: skip
    ax.set_xlabel("new members per BatchAddConversationParticipant")
    ax.set_ylabel("capacity units")
    ax.set_xticks(ADD_BATCH_SIZES)
    twin = ax.twinx()
    for name in CONTENDERS:
        p50 = [latency[n][name]["p50"] for n in names]
        twin.plot(ADD_BATCH_SIZES, p50, marker="s", linestyle="--", color=COLOURS[name],
                  label=f"{NAMES[name]} p50 ms")  # fmt: skip
    twin.set_ylabel("ms p50")
    requests = [accounting[n]["requests"] for n in names]
    ax.set_title(f"An add's cost by batch size (requests: {requests})")
    lines = ax.get_legend_handles_labels()
    twin_lines = twin.get_legend_handles_labels()
    ax.legend(lines[0] + twin_lines[0], lines[1] + twin_lines[1], fontsize=8, loc="upper left")


def _cold_start(ax: Axes, cold: dict[str, Any]) -> None:
    sides = list(cold["sides"])
    p50 = [cold["sides"][side]["import_ms"]["p50"] for side in sides]
    p95 = [cold["sides"][side]["import_ms"]["p95"] for side in sides]
    colours = [COLOURS[HANDLER], "#64b5f6", COLOURS[FLOOR]]
    bars = ax.bar(
        [side.replace(" + ", "\n+ ") for side in sides],
        p50,
        yerr=[[0] * len(sides), [high - mid for high, mid in zip(p95, p50, strict=True)]],
        color=colours[: len(sides)],
        capsize=6,
    )
    ax.bar_label(bars, fmt="%.0f ms", label_type="center", color="white", weight="bold")
    limit = MAX_COLD_START_RATIO * p50[-1]
    met = cold["ratio_p50_first_request"] <= MAX_COLD_START_RATIO
    ax.axhline(limit, color=PASS if met else FAIL, linestyle="--", linewidth=1)
    ax.annotate(f"target: {MAX_COLD_START_RATIO} x floor", (len(sides) - 0.6, limit),
                xytext=(0, 3), textcoords="offset points", ha="right", fontsize=8)  # fmt: skip
    ax.set_title(
        f"Cold start, import to ready: {cold['ratio_p50_first_request']:.2f} x floor for "
        f"handler.app + its first action\n({cold['ratio_p50_lazy']:.2f} x handler.app alone, "
        f"{cold['ratio_p50']:.2f} x every action); bars p50, whiskers p95"
    )
    ax.set_ylabel("ms in a fresh interpreter")


def _action_imports(ax: Axes, imports: dict[str, Any]) -> None:
    ranked = sorted(imports.items(), key=lambda entry: entry[1]["import_ms"]["p50"])
    bars = ax.barh(
        [name for name, _ in ranked],
        [entry["import_ms"]["p50"] for _, entry in ranked],
        color=COLOURS[HANDLER],
    )
    ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("What each action adds: its module's import on\nits first request, ms p50")


def _copies_and_targets(ax: Axes, results: dict[str, Any]) -> None:
    ax.set_axis_off()
    lines = ["Records as copies (same write + 2 record items):"]
    for entry in results.get("copies", {}).values():
        ref, copy = entry["reference"], entry["copy"]
        lines.append(
            f"  {entry['label']}: {ref['write_units']:g} -> {copy['write_units']:g} WCU, "
            f"{ref['p50']:.1f} -> {copy['p50']:.1f} ms p50"
        )
    failed = [target for target in results["targets"] if not target["passed"]]
    lines += ["", f"Targets: {len(results['targets']) - len(failed)} met, {len(failed)} missed"]
    lines += [f"  FAIL {t['name']}: {t['measured']} ({t['target']})" for t in failed[:14]]
    ax.text(0.0, 1.0, "\n".join(lines), transform=ax.transAxes, va="top", fontsize=9,
            family="monospace", color=FAIL if failed else PASS)  # fmt: skip
    ax.set_title("Copies vs references; missed targets (docs/benchmark.md)")


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
