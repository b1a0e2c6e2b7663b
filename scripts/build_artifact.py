"""Build the Lambda artifact: handler/ plus the locked runtime dependencies, for arm64 CPython 3.13.

The build never imports what it installs, so it runs on any host (other CPU, other Python):
pip picks the target's wheels by platform tags, and the hashes from uv.lock pin every file.
Then it leaves out what the function never loads (docs/artifact.md): the botocore models of
every service but those the code creates clients for, and the packages in LEFT_OUT.

    python scripts/build_artifact.py build DIR   (what `make build` and `sam build` run)
    python scripts/build_artifact.py build --host DIR  (for this machine: the tests run it)
    python scripts/build_artifact.py build --full DIR  (the whole SDK, nothing left out: the
                                                        benchmark's "before")
    python scripts/build_artifact.py zip DIR ZIP (what `make package` runs)

`build_artifact()` and `zip_artifact()` are the same steps for Python callers (tests, benchmark).
Dev tooling only; nothing here ships in the artifact.
"""

from __future__ import annotations

import argparse
import ast
import base64
import fnmatch
import hashlib
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


# --- What ships: the one rule (docs/artifact.md) ------------------------------------------------
# botocore keeps the model folder of each service the function creates a client for, whole (API,
# endpoint rules, paginators, waiters, examples), and its top-level data files; no other model.
# The services come from handler/'s own source (services_called), plus those a dependency the
# handler runs creates clients for itself, none today. Not X-Ray: aws_xray_sdk sends traces to the
# daemon over UDP, and builds an X-Ray client (for centralized sampling) only outside Lambda; in
# Lambda (LAMBDA_TASK_ROOT set) its recorder samples locally (core/recorder.py), which
# tests/test_artifact_runs.py checks by tracing from the artifact without the X-Ray model.
DEPENDENCY_SERVICES: dict[str, str] = {}
# The calls whose first argument names a service: our factory (handler/aws_clients.py), botocore
# session's create_client and boto3's client().
CLIENT_FACTORY_FUNCTIONS = frozenset({"new_client"})
CLIENT_FACTORY_METHODS = frozenset({"create_client", "client"})
BOTOCORE_DATA = "botocore/data"

# Packages and modules none of whose code the handler can reach (tests/test_artifact.py checks
# every one against the import graph of handler/ in the built artifact), and why each goes.
LEFT_OUT: dict[str, str] = {
    "boto3/data": "boto3's resource models, read only by Session.resource(); nothing creates one",
    "aws_lambda_powertools/event_handler": "Powertools' API routers; reached only from "
    "shared.functions.pydantic_to_dict (see UNTAKEN_IMPORTS)",
    "aws_lambda_powertools/utilities/data_classes": "event source classes, imported only by "
    "event_handler and utilities left out here",
    **{
        f"aws_lambda_powertools/utilities/{utility}": "a Powertools utility handler/ never imports"
        for utility in (
            "auth_alpha",
            "batch",
            "circuit_breaker",
            "data_masking",
            "feature_flags",
            "idempotency",
            "kafka",
            "metadata",
            "parser",
            "streaming",
            "validation",
        )
    },
    **{
        f"aws_xray_sdk/ext/{library}": "the X-Ray SDK's patch for a library the Tracer is not "
        "told to patch (handler/telemetry.py patches botocore only); the Tracer's own methods "
        "import aiohttp's and httplib's, so those stay"
        for library in (
            "aiobotocore",
            "bottle",
            "django",
            "flask",
            "flask_sqlalchemy",
            "httpx",
            "mysql",
            "pg8000",
            "psycopg",
            "psycopg2",
            "pymongo",
            "pymysql",
            "pynamodb",
            "requests",
            "sqlalchemy",
            "sqlalchemy_core",
            "sqlite3",
        )
    },
    "pydantic/experimental": "pydantic's experimental pipeline API; nothing imports it",
    "pydantic/mypy.py": "pydantic's mypy plugin, loaded by mypy only",
    "annotated_types/test_cases.py": "annotated-types' own test data",
    "wrapt-stubs": "type stubs, read by type checkers only",
}
# Left out wherever they are: type stubs.
LEFT_OUT_PATTERNS = {"*.pyi": "type stubs, read by type checkers only"}
# Import statements the handler can never execute, so the packages behind them may be left out:
# (importing module, imported package and everything in it). The guard test checks that
# handler/ does not make the call that would run them.
UNTAKEN_IMPORTS = {
    (
        "aws_lambda_powertools.shared.functions",
        "aws_lambda_powertools.event_handler",
    ): "the import of event_handler.openapi.compat inside pydantic_to_dict(), which Powertools "
    "calls only for a pydantic model logged as the event by "
    "Logger.inject_lambda_context(log_event=True) or stored by SecretsProvider.set(); handler/ "
    "calls neither",
}


class BuildError(Exception):
    """The build cannot honour the rule: a service it cannot name, a LEFT_OUT path not there."""


@dataclass(frozen=True)
class Target:
    """Whose wheels and bytecode the artifact holds."""

    name: str
    # pip --platform / --python-version; None: those of `python` (pip runs it via --python).
    platform: str | None
    python_version: str
    cache_tag: str
    # The interpreter of a host build (pip runs under it; it compiles the bytecode).
    python: str | None = None


LAMBDA_TARGET = Target(
    name=f"python{TARGET_PYTHON_VERSION} arm64",
    platform=TARGET_PLATFORM,
    python_version=TARGET_PYTHON_VERSION,
    cache_tag=TARGET_CACHE_TAG,
)


def host_target(python: str = sys.executable) -> Target:
    """This machine's platform and `python`'s version: an artifact this machine can run."""
    described = subprocess.run(
        [
            python,
            "-c",
            "import sys; print('%d.%d' % sys.version_info[:2], sys.implementation.cache_tag)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return Target(
        name=f"host python{described[0]}",
        platform=None,
        python_version=described[0],
        cache_tag=described[1],
        python=python,
    )


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


def build_artifact(
    artifact_dir: Path,
    tools: BuildTools,
    *,
    target: Target = LAMBDA_TARGET,
    slim: bool = True,
) -> Path:
    """Replace artifact_dir with handler/ and the runtime dependencies; return it.

    slim=False keeps the whole of every dependency (what the artifact held before the rule).
    """
    if artifact_dir.exists():
        shutil.rmtree(artifact_dir)
    artifact_dir.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        requirements = export_runtime_requirements(tools.uv, Path(scratch))
        install_dependencies(tools, requirements, artifact_dir, target)
    if slim:
        leave_out(artifact_dir, services_shipped())
    shutil.copytree(
        REPO / SHIPPED_SOURCE,
        artifact_dir / SHIPPED_SOURCE,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    bytecode_python = target.python or tools.bytecode_python
    if bytecode_python:
        compile_bytecode(bytecode_python, artifact_dir)
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


def services_called(source_dir: Path = REPO / SHIPPED_SOURCE) -> dict[str, list[str]]:
    """Each AWS service the code in source_dir creates a client for, with where (file:line).

    A factory call whose service is not a string literal fails the build: the rule could not
    tell which model to ship.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(source_dir.rglob("*.py")):
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            factory = (isinstance(func, ast.Name) and func.id in CLIENT_FACTORY_FUNCTIONS) or (
                isinstance(func, ast.Attribute) and func.attr in CLIENT_FACTORY_METHODS
            )
            if not factory:
                continue
            where = f"{path.relative_to(source_dir.parent).as_posix()}:{node.lineno}"
            service = _service_argument(node)
            if service is None:
                if isinstance(func, ast.Name):  # our own factory: the service must be visible
                    raise BuildError(
                        f"{where}: {func.id}() is not given its service as a string literal, "
                        "so the build cannot tell which botocore model to ship"
                    )
                continue  # some other .client()/.create_client(), e.g. store.create_client(cfg)
            found.setdefault(service, []).append(where)
    return found


def services_shipped() -> dict[str, str]:
    """The allow-list: every service whose botocore model ships, with why."""
    shipped = {
        service: "created in " + ", ".join(places) for service, places in services_called().items()
    }
    for service, why in DEPENDENCY_SERVICES.items():
        shipped.setdefault(service, why)
    return dict(sorted(shipped.items()))


def _service_argument(call: ast.Call) -> str | None:
    candidates = call.args[:1] + [k.value for k in call.keywords if k.arg == "service_name"]
    for argument in candidates:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value
    return None


def leave_out(artifact_dir: Path, services: dict[str, str]) -> list[str]:
    """Remove what the rule leaves out; keep each RECORD true to what is left. Returns the paths
    removed (relative, sorted)."""
    data = artifact_dir / BOTOCORE_DATA
    models = {path.name for path in data.iterdir() if path.is_dir()}
    unknown = sorted(set(services) - models)
    if unknown:
        raise BuildError(f"botocore has no model for {unknown}: is the service name right?")
    removed = [f"{BOTOCORE_DATA}/{name}" for name in sorted(models - set(services))]
    missing = [path for path in LEFT_OUT if not (artifact_dir / path).exists()]
    if missing:
        raise BuildError(
            f"LEFT_OUT names {missing}, which the installed packages do not have: "
            "a dependency changed, so review the table in scripts/build_artifact.py"
        )
    removed += sorted(LEFT_OUT)
    for path in _files(artifact_dir):
        relative = path.relative_to(artifact_dir).as_posix()
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in LEFT_OUT_PATTERNS):
            removed.append(relative)
    for relative in removed:
        path = artifact_dir / relative
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    rewrite_records(artifact_dir)
    return sorted(removed)


def rewrite_records(artifact_dir: Path) -> None:
    """Drop the RECORD lines of files no longer there, so pip and importlib.metadata agree with
    the tree (a RECORD lists each installed file with its sha256, RECORD itself without one)."""
    for record in sorted(artifact_dir.glob("*.dist-info/RECORD")):
        lines = record.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if (artifact_dir / line.rsplit(",", 2)[0]).exists()]
        if kept != lines:
            record.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")


def record_hash(path: Path) -> str:
    """A file's hash as a RECORD line writes it."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest())
    return "sha256=" + digest.rstrip(b"=").decode("ascii")


def install_dependencies(
    tools: BuildTools, requirements: Path, target: Path, platform: Target = LAMBDA_TARGET
) -> None:
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
    if not _pip(tools, platform, "install", install, requirements, may_fail=True):
        _pip(
            tools,
            platform,
            "download",
            ["--index-url", tools.index_url, "--dest", str(wheelhouse)],
            requirements,
        )
        _pip(tools, platform, "install", install, requirements)
    # Console scripts (jmespath's jp.py) are never imported, and their shebang names this machine.
    shutil.rmtree(target / "bin", ignore_errors=True)


def _pip(
    tools: BuildTools,
    target: Target,
    command: str,
    options: list[str],
    requirements: Path,
    *,
    may_fail: bool = False,
) -> bool:
    """Run pip for the target platform on the hash-pinned requirements; True if it succeeded."""
    # --isolated: no pip.conf, no PIP_* variables (this machine sets constraints and find-links
    # globally), so every machine resolves the same way.
    if target.platform is not None:
        tags = ["--platform", target.platform, "--implementation", "cp"]
        tags += ["--python-version", target.python_version]
        runs_under: list[str] = []
    else:  # pip runs under the host interpreter, so it picks that interpreter's own wheels
        tags, runs_under = [], ["--python", str(target.python)]
    arguments = [
        str(tools.pip),
        *runs_under,
        command,
        "--isolated",
        "--disable-pip-version-check",
        "--no-input",
        "--quiet",
        "--no-cache-dir",
        *tags,
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
    build.add_argument(
        "--host", action="store_true", help="for this machine and this Python, not arm64/3.13"
    )
    build.add_argument(
        "--full", action="store_true", help="leave nothing out (the whole SDK, for comparison)"
    )
    package = commands.add_parser("zip", help="zip a built artifact directory deterministically")
    package.add_argument("artifact_dir", type=Path)
    package.add_argument("zip_path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "build":
        target = host_target() if args.host else LAMBDA_TARGET
        built = build_artifact(
            args.artifact_dir.resolve(), default_tools(), target=target, slim=not args.full
        )
        print(f"built {built} ({tree_size(built):,} bytes unzipped)")
    else:
        zipped = zip_artifact(args.artifact_dir.resolve(), args.zip_path.resolve())
        print(f"zipped {zipped} ({zipped.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
