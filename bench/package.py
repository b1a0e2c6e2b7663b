"""Size of the deployment artifact for template.yaml's runtime (python3.13) and architecture
(arm64), zipped and unzipped: exactly what `make build` / `sam build` produce."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from scripts.build_artifact import (
    TARGET_CACHE_TAG,
    TARGET_PLATFORM,
    TARGET_PYTHON_VERSION,
    build_artifact,
    default_tools,
    zip_artifact,
)

TOP_PACKAGES = 8


def measure() -> dict[str, Any]:
    tools = default_tools()
    with tempfile.TemporaryDirectory() as scratch:
        artifact = build_artifact(Path(scratch) / "artifact", tools)
        files = [path for path in artifact.rglob("*") if path.is_file()]
        by_package: dict[str, int] = defaultdict(int)
        for path in files:
            by_package[_package_of(path.relative_to(artifact))] += path.stat().st_size
        archive = zip_artifact(artifact, Path(scratch) / "function.zip")
        ranked = sorted(by_package.items(), key=lambda entry: entry[1], reverse=True)
        return {
            "runtime": f"python{TARGET_PYTHON_VERSION}",
            "architecture": "arm64",
            "platform": TARGET_PLATFORM,
            "bytecode": TARGET_CACHE_TAG if tools.bytecode_python else "none",
            "built_by": "scripts/build_artifact.py (make build, sam build)",
            "files": len(files),
            "unzipped_mb": _mb(sum(by_package.values())),
            "zipped_mb": _mb(archive.stat().st_size),
            "largest_unzipped_mb": {name: _mb(size) for name, size in ranked[:TOP_PACKAGES]},
        }


def _package_of(relative: Path) -> str:
    top = relative.parts[0]
    for suffix in (".dist-info", ".libs"):
        top = top.removesuffix(suffix)
    return top.split("-")[0].removesuffix(".py")


def _mb(size: int) -> float:
    return round(size / 1_000_000, 2)
