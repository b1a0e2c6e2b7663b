"""Size of the deployment artifact for template.yaml's runtime (python3.13) and architecture
(arm64), zipped and unzipped.

`build_artifact` is a stand-in for the project's shared build (`make build`), which lives on
another branch: once that is merged, measure what it builds instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
UV = REPO / ".tools" / "bin" / "uv"
PIP = REPO / ".tools" / "bin" / "pip"
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"
PYENV_PYTHON = Path.home() / ".pyenv" / "versions" / "3.13.0" / "bin" / "python"
ZIP_LEVEL = 6
TOP_PACKAGES = 8


def build_artifact(dest: Path) -> Path:
    """handler/ plus the locked runtime dependencies, as arm64 CPython 3.13 wheels install."""
    requirements = subprocess.run(
        [str(UV), "export", "--frozen", "--no-dev", "--no-hashes", "--no-header"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as pinned:
        pinned.write(requirements)
        pinned.flush()
        subprocess.run(
            [str(PIP), "install", "--isolated", "--quiet", "--disable-pip-version-check",
             "--platform", PLATFORM, "--implementation", "cp",
             "--python-version", PYTHON_VERSION, "--only-binary=:all:", "--no-compile",
             "--cache-dir", str(REPO / ".cache" / "pip"),
             "--target", str(dest), "--requirement", pinned.name],
            env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
            check=True,
        )  # fmt: skip
    shutil.copytree(
        REPO / "handler", dest / "handler", ignore=shutil.ignore_patterns("__pycache__")
    )
    bytecode_python = _python_3_13()
    if bytecode_python:  # Lambda's file system is read-only: ship 3.13 bytecode, as it runs
        subprocess.run(
            [bytecode_python, "-m", "compileall", "-q", "-j", "0", str(dest)], check=True
        )
    return dest


def _python_3_13() -> str | None:
    for candidate in (str(PYENV_PYTHON), shutil.which("python3.13")):
        if candidate and _runs(candidate):
            return candidate
    return None


def _runs(python: str) -> bool:
    # A pyenv shim exists even where the version it names does not, and then fails.
    probe = subprocess.run([python, "-c", ""], capture_output=True, check=False)
    return probe.returncode == 0


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        artifact = build_artifact(Path(scratch) / "artifact")
        files = [path for path in artifact.rglob("*") if path.is_file()]
        by_package: dict[str, int] = defaultdict(int)
        for path in files:
            by_package[_package_of(path.relative_to(artifact))] += path.stat().st_size
        archive = Path(scratch) / "function.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zf:
            for path in sorted(files):
                zf.write(path, path.relative_to(artifact))
        ranked = sorted(by_package.items(), key=lambda entry: entry[1], reverse=True)
        return {
            "runtime": f"python{PYTHON_VERSION}",
            "architecture": "arm64",
            "bytecode": "cpython-313" if _python_3_13() else "none",
            "built_by": "bench.package.build_artifact (stand-in for the shared `make build`)",
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
