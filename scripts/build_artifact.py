"""Build the Lambda artifact: handler/ plus the locked runtime dependencies, for arm64 CPython 3.13.

The build never imports what it installs, so it runs on any host (other CPU, other Python):
pip picks the target's wheels by platform tags, and the hashes from uv.lock pin every file.

    python scripts/build_artifact.py build DIR   (what `make build` and `sam build` run)
    python scripts/build_artifact.py zip DIR ZIP (what `make package` runs)

`build_artifact()` and `zip_artifact()` are the same steps for Python callers (tests, benchmark).
Dev tooling only; nothing here ships in the artifact.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The target: template.yaml's Runtime (python3.13) and Architectures (arm64).
TARGET_PLATFORM = "manylinux2014_aarch64"
TARGET_PYTHON_VERSION = "3.13"
TARGET_CACHE_TAG = "cpython-313"
SHIPPED_SOURCE = "handler"
DEFAULT_INDEX_URL = "https://pypi.org/simple"
LAMBDA_TASK_ROOT = "/var/task"
# Zip entries carry this time instead of the files' mtimes, so equal trees give equal zips.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# zlib's default: level 9 takes twice as long for 0.2% less.
ZIP_LEVEL = 6


@dataclass(frozen=True)
class BuildTools:
    uv: Path
    pip: Path
    bytecode_python: str | None
    cache_dir: Path
    index_url: str = DEFAULT_INDEX_URL


def default_tools() -> BuildTools:
    """The tools `make build` sets up under .tools/, and a CPython 3.13 if this machine has one."""
    return BuildTools(
        uv=REPO / ".tools" / "bin" / "uv",
        pip=REPO / ".tools" / "pip" / "bin" / "pip",
        bytecode_python=find_bytecode_python(),
        cache_dir=REPO / ".cache",
        index_url=os.environ.get("ARTIFACT_INDEX_URL") or DEFAULT_INDEX_URL,
    )


def build_artifact(artifact_dir: Path, tools: BuildTools) -> Path:
    """Replace artifact_dir with handler/ and the runtime dependencies; return it."""
    if artifact_dir.exists():
        shutil.rmtree(artifact_dir)
    artifact_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        requirements = export_runtime_requirements(tools.uv, Path(scratch))
        install_dependencies(tools, requirements, artifact_dir)
    shutil.copytree(
        REPO / SHIPPED_SOURCE,
        artifact_dir / SHIPPED_SOURCE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    if tools.bytecode_python:
        compile_bytecode(tools.bytecode_python, artifact_dir)
    else:
        print(
            f"note: no CPython {TARGET_PYTHON_VERSION} found (set BYTECODE_PYTHON); the artifact "
            "ships without bytecode and Lambda compiles every module at each cold start",
            file=sys.stderr,
        )
    return artifact_dir


def export_runtime_requirements(uv: Path, scratch: Path) -> Path:
    """uv.lock's runtime dependencies (no dev group), every one pinned with its hashes."""
    requirements = scratch / "requirements.txt"
    _run(
        [
            str(uv),
            "export",
            "--frozen",
            "--no-dev",
            "--no-emit-project",
            "--no-header",
            "--quiet",
            "--output-file",
            str(requirements),
        ],
        cwd=REPO,
    )
    return requirements


def install_dependencies(tools: BuildTools, requirements: Path, target: Path) -> None:
    """Install the target's wheels from the wheelhouse, fetching them first if any is missing.

    The wheelhouse (not pip's HTTP cache, which proxies that send no cache headers defeat) makes
    a repeated build need no network; the hashes still check every wheel it holds.
    """
    wheelhouse = tools.cache_dir / "wheels"
    # --no-compile: pip would write bytecode for its own interpreter, useless to the 3.13 runtime.
    install = [
        "--no-index",
        "--find-links",
        str(wheelhouse),
        "--no-compile",
        "--target",
        str(target),
    ]
    if not _pip(tools, "install", install, requirements, may_fail=True):
        _pip(
            tools,
            "download",
            ["--index-url", tools.index_url, "--dest", str(wheelhouse)],
            requirements,
        )
        _pip(tools, "install", install, requirements)
    # Console scripts (jmespath's jp.py) are never imported, and their shebang names this machine.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _pip(
    tools: BuildTools,
    command: str,
    options: list[str],
    requirements: Path,
    *,
    may_fail: bool = False,
) -> bool:
    """Run pip for the target platform on the hash-pinned requirements; True if it succeeded."""
    # --isolated: no pip.conf, no PIP_* variables (this machine sets constraints and find-links
    # globally), so every machine resolves the same way.
    arguments = [
        str(tools.pip),
        command,
        "--isolated",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-cache-dir",
        "--platform",
        TARGET_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        TARGET_PYTHON_VERSION,
        "--only-binary=:all:",
        "--require-hashes",
        "--no-deps",
        *options,
        "--requirement",
        str(requirements),
    ]
    # An attempt allowed to fail (the wheelhouse may be incomplete) keeps its complaints to itself.
    result = subprocess.run(arguments, capture_output=may_fail, check=not may_fail)
    return result.returncode == 0


def compile_bytecode(python: str, artifact_dir: Path) -> None:
    """Ship 3.13 bytecode: /var/task is read-only, so Lambda cannot cache what it compiles."""
    # unchecked-hash: the .pyc is used without comparing the source's mtime, which the zip and
    # Lambda's unpacking do not preserve; it holds no timestamp, so builds stay reproducible.
    # -s/-p: tracebacks name /var/task/..., where Lambda unpacks the code, not this build's path.
    _run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(artifact_dir),
            "-p",
            LAMBDA_TASK_ROOT,
            str(artifact_dir),
        ]
    )


def find_bytecode_python() -> str | None:
    """BYTECODE_PYTHON if set (it must be CPython 3.13), else python3.13 or a pyenv 3.13."""
    explicit = os.environ.get("BYTECODE_PYTHON")
    if explicit:
        if _cache_tag(explicit) != TARGET_CACHE_TAG:
            raise SystemExit(f"BYTECODE_PYTHON={explicit} is not CPython {TARGET_PYTHON_VERSION}")
        return explicit
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        f"python{TARGET_PYTHON_VERSION}",
        *map(str, sorted(pyenv_root.glob(f"versions/{TARGET_PYTHON_VERSION}.*/bin/python3"))),
    ]
    return next((c for c in candidates if _cache_tag(c) == TARGET_CACHE_TAG), None)


def zip_artifact(artifact_dir: Path, zip_path: Path) -> Path:
    """A deterministic zip: sorted entries, fixed times and modes, so equal trees zip equally."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(
        partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL
    ) as zf:
        for path in _files(artifact_dir):
            entry = zipfile.ZipInfo(path.relative_to(artifact_dir).as_posix(), ZIP_EPOCH)
            executable = path.stat().st_mode & 0o111
            entry.external_attr = (0o100755 if executable else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, path.read_bytes(), compresslevel=ZIP_LEVEL)
    partial.replace(zip_path)
    return zip_path


def tree_size(artifact_dir: Path) -> int:
    return sum(path.stat().st_size for path in _files(artifact_dir))


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def _cache_tag(python: str) -> str | None:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print(sys.implementation.cache_tag)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _run(command: list[str], cwd: Path | None = None) -> None:
    subprocess.run(command, cwd=cwd, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the artifact directory")
    build.add_argument("artifact_dir", type=Path)
    package = commands.add_parser("zip", help="zip a built artifact directory deterministically")
    package.add_argument("artifact_dir", type=Path)
    package.add_argument("zip_path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        built = build_artifact(args.artifact_dir.resolve(), default_tools())
        print(f"built {built} ({tree_size(built):,} bytes unzipped)")
    else:
        zipped = zip_artifact(args.artifact_dir.resolve(), args.zip_path.resolve())
        print(f"zipped {zipped} ({zipped.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
