"""The Lambda artifact `make build` produces (and `sam build` runs): the right code, for arm64 3.13.

Builds once per session into a temporary directory; the pip downloads are cached in .cache/pip.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.build_artifact import (
    BOTOCORE_DATA,
    LEFT_OUT,
    LEFT_OUT_PATTERNS,
    REPO,
    TARGET_CACHE_TAG,
    UNTAKEN_IMPORTS,
    BuildError,
    find_bytecode_python,
    record_hash,
    services_called,
    services_shipped,
    zip_artifact,
)
from tests.support.imports import handler_modules, import_graph, module_file

# ELF header: 64-bit class at byte 4, little-endian machine id at bytes 18-19 (183 = AArch64).
ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
EM_AARCH64 = 183
# Never shipped: tests, dev tooling, the local runner and benchmark, dev-only dependencies.
NOT_SHIPPED = {
    "tests",
    "scripts",
    "bench",
    "events",
    "moto",
    "pytest",
    "_pytest",
    "ruff",
    "mypy",
    "hypothesis",
    "cfnlint",
    "mypy_boto3_dynamodb",
    "boto3_stubs",
}


def make_build(artifact_dir: Path) -> Path:
    """`make build` into artifact_dir, as the benchmark and sam call it."""
    # A parent make's flags (jobserver descriptors) mean nothing to this separate make.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"ARTIFACT_DIR={artifact_dir}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return artifact_dir


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_build(tmp_path_factory.mktemp("artifact") / "CreateConversationFunction")


def test_pydantic_core_is_compiled_for_aarch64_cpython_313(artifact: Path) -> None:
    # Given the built artifact, When looking for pydantic-core's compiled extension
    extensions = list((artifact / "pydantic_core").glob("_pydantic_core.*.so"))
    # Then there is exactly one, named for CPython 3.13 on aarch64 Linux
    assert [path.name for path in extensions] == ["_pydantic_core.cpython-313-aarch64-linux-gnu.so"]
    # And its ELF header says 64-bit AArch64 code
    assert _elf_machine(extensions[0]) == EM_AARCH64


def test_every_compiled_extension_is_aarch64(artifact: Path) -> None:
    # Given every shared object in the artifact, Then each is AArch64 machine code
    shared_objects = sorted(artifact.rglob("*.so"))
    assert shared_objects
    assert {str(path.relative_to(artifact)): _elf_machine(path) for path in shared_objects} == {
        str(path.relative_to(artifact)): EM_AARCH64 for path in shared_objects
    }


def test_artifact_holds_exactly_the_locked_runtime_dependencies(artifact: Path) -> None:
    # Given the runtime dependencies uv.lock pins (without the dev group)
    exported = subprocess.run(
        [str(REPO / ".tools/bin/uv"), "export", "--frozen", "--no-dev", "--no-hashes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    locked = {
        _normalize(line.split("==")[0]) + "==" + line.split("==")[1].strip()
        for line in exported.splitlines()
        if "==" in line and not line.startswith("#")
    }
    # When listing the distributions installed in the artifact
    installed = {
        _normalize(path.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        + "=="
        + path.name.removesuffix(".dist-info").rsplit("-", 1)[1]
        for path in artifact.glob("*.dist-info")
    }
    # Then they are the same set, at the same versions (boto3 included: pinned, not the runtime's)
    assert installed == locked
    assert any(entry.startswith("boto3==") for entry in installed)


def test_artifact_ships_no_tests_tooling_or_dev_dependencies(artifact: Path) -> None:
    # Given the artifact's top level, Then nothing from the never-shipped list is there
    top_level = {path.name.removesuffix(".py") for path in artifact.iterdir()}
    assert top_level & NOT_SHIPPED == set()
    assert not (artifact / "bin").exists()


def test_handler_is_shipped_as_in_the_repository(artifact: Path) -> None:
    # Given the repository's handler package and the artifact's copy
    sources = {path.name for path in (REPO / "handler").glob("*.py")}
    shipped = {path.name for path in (artifact / "handler").glob("*.py")}
    # Then the same modules, byte for byte, with the entry point's module among them
    assert shipped == sources
    assert "app.py" in shipped
    for name in sources:
        assert (artifact / "handler" / name).read_bytes() == (REPO / "handler" / name).read_bytes()


def test_every_module_the_handler_imports_ships_or_is_stdlib(artifact: Path) -> None:
    # Given the top-level modules handler/ imports at run time (not those only type-checkers see)
    imported = {
        name
        for path in (REPO / "handler").glob("*.py")
        for name in _runtime_imports(ast.parse(path.read_text()))
    }
    # Then each is in the standard library or at the artifact's top level
    shipped = {path.name.removesuffix(".py") for path in artifact.iterdir()}
    missing = {name for name in imported - set(sys.stdlib_module_names) if name not in shipped}
    assert missing == set()


def test_bytecode_is_for_the_runtime_python_only(artifact: Path) -> None:
    # Given the compiled bytecode in the artifact
    tags = {path.name.split(".")[-2] for path in artifact.rglob("*.pyc")}
    # Then it is CPython 3.13's (what Lambda's python3.13 loads), when this machine has a 3.13
    # to compile with, and absent otherwise; never pip's own interpreter's
    expected = {TARGET_CACHE_TAG} if find_bytecode_python() else set()
    assert tags == expected
    if expected:
        assert (artifact / "handler" / "__pycache__" / f"app.{TARGET_CACHE_TAG}.pyc").is_file()


def test_zip_is_deterministic_and_complete(artifact: Path, tmp_path: Path) -> None:
    # Given the same artifact zipped twice
    first = zip_artifact(artifact, tmp_path / "first.zip")
    second = zip_artifact(artifact, tmp_path / "second.zip")
    # Then the zips are byte-identical
    assert first.read_bytes() == second.read_bytes()
    # And hold every file of the artifact
    with zipfile.ZipFile(first) as zf:
        names = set(zf.namelist())
    files = {p.relative_to(artifact).as_posix() for p in artifact.rglob("*") if p.is_file()}
    assert names == files


def test_build_is_reproducible(artifact: Path, tmp_path: Path) -> None:
    # Given a second build into another directory
    again = make_build(tmp_path / "elsewhere")
    # Then it holds the same files with the same bytes and modes: no path, time or host leaks in
    assert _tree(again) == _tree(artifact)


def test_botocore_ships_the_models_of_the_services_the_code_creates_clients_for(
    artifact: Path,
) -> None:
    # Given the services handler/ creates clients for, read from its source
    called = set(services_called())
    # Then they are DynamoDB and Secrets Manager today, and the allow-list holds each of them
    assert called >= {"dynamodb", "secretsmanager"}
    assert called <= set(services_shipped())
    # And botocore's data holds exactly those models, each folder whole, and its own data files
    data = artifact / BOTOCORE_DATA
    assert {path.name for path in data.iterdir() if path.is_dir()} == set(services_shipped())
    assert {path.name for path in data.iterdir() if path.is_file()} >= {
        "endpoints.json",
        "partitions.json",
        "sdk-default-configuration.json",
        "_retry.json",
    }
    newest = sorted((data / "dynamodb").iterdir())[-1]
    assert {path.name for path in newest.iterdir()} >= {
        "service-2.json.gz",
        "endpoint-rule-set-1.json.gz",
        "paginators-1.json",
        "waiters-2.json",
    }


def test_a_client_for_a_new_service_extends_the_allow_list(tmp_path: Path) -> None:
    # Given code that starts creating clients the way handler/ does, and the way botocore does
    package = tmp_path / "handler"
    package.mkdir()
    (package / "queue.py").write_text(
        "from handler.aws_clients import new_client\n"
        'def sqs(settings):\n    return new_client("sqs", settings)\n'
        'def sns(session):\n    return session.create_client("sns", region_name="x")\n'
        "def store_client(settings):\n    return create_client(settings)\n"
    )
    # When the rule reads it, Then both services are found, where they are created
    assert services_called(package) == {
        "sqs": ["handler/queue.py:3"],
        "sns": ["handler/queue.py:5"],
    }


def test_a_client_whose_service_the_rule_cannot_read_fails_the_build(tmp_path: Path) -> None:
    # Given our factory called with a service computed at run time
    package = tmp_path / "handler"
    package.mkdir()
    (package / "dynamic.py").write_text("def c(name, s):\n    return new_client(name, s)\n")
    # When the rule reads it, Then the build stops, naming the place
    with pytest.raises(BuildError, match=re.escape("handler/dynamic.py:2")):
        services_called(package)


def test_nothing_the_handler_can_import_is_left_out(artifact: Path) -> None:
    # Given every module reachable from handler/ through any import statement in the artifact
    # (function bodies and TYPE_CHECKING blocks included), less the named untaken imports
    graph = import_graph(artifact, handler_modules(artifact), UNTAKEN_IMPORTS)
    # Then none of their import statements names a module the rule left out, except the
    # untaken imports
    missing = sorted(
        (importer, name)
        for importer in graph.parents
        for name in _imported_names(artifact, importer)
        if _names_left_out(name)
        and not any(importer == s and name.startswith(p) for s, p in UNTAKEN_IMPORTS)
    )
    assert missing == []


def test_the_untaken_imports_stay_untaken() -> None:
    # Given the import left out as never run: Powertools' pydantic_to_dict, reached only by a
    # Logger logging its event or a SecretsProvider storing a secret
    sources = "\n".join(path.read_text() for path in (REPO / "handler").rglob("*.py"))
    tree = ast.parse(sources)
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    # Then handler/ makes neither call
    assert "inject_lambda_context" not in attributes
    provider_sets = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "set"
        and "provider" in ast.unparse(node.value).lower()
    ]
    assert provider_sets == []
    assert set(UNTAKEN_IMPORTS) == {
        ("aws_lambda_powertools.shared.functions", "aws_lambda_powertools.event_handler")
    }


def test_left_out_packages_type_stubs_and_other_bytecode_are_gone(artifact: Path) -> None:
    # Given the rule's list, Then none of its paths is in the artifact
    assert [path for path in LEFT_OUT if (artifact / path).exists()] == []
    # And no type stub, no stub package, and no bytecode for another Python
    for pattern in LEFT_OUT_PATTERNS:
        assert list(artifact.rglob(pattern)) == []
    assert list(artifact.glob("*-stubs")) == []
    assert {path.parent.name for path in artifact.rglob("*.pyc")} <= {"__pycache__"}
    # And no test folder of a dependency
    assert [p for p in artifact.rglob("*") if p.is_dir() and p.name in {"tests", "test"}] == []


def test_every_record_lists_exactly_the_files_its_distribution_left(artifact: Path) -> None:
    # Given every dist-info RECORD (the files pip installed, with their sha256)
    listed: set[str] = set()
    for record in artifact.glob("*.dist-info/RECORD"):
        for line in record.read_text().splitlines():
            path, digest, _size = line.rsplit(",", 2)
            # Then each file it lists is there, with the hash it lists
            assert (artifact / path).is_file(), (record.parent.name, path)
            if digest:
                assert record_hash(artifact / path) == digest, path
            listed.add(path)
    # And every file that is not ours or bytecode compiled after the install is listed
    unlisted = {
        path.relative_to(artifact).as_posix()
        for path in artifact.rglob("*")
        if path.is_file() and path.suffix != ".pyc" and path.parts[len(artifact.parts)] != "handler"
    } - listed
    assert unlisted == set()


def _left_out_modules() -> set[str]:
    return {path.removesuffix(".py").replace("/", ".") for path in LEFT_OUT}


def _names_left_out(name: str) -> bool:
    return any(name == module or name.startswith(module + ".") for module in _left_out_modules())


def _imported_names(root: Path, module: str) -> set[str]:
    """Every module name `module`'s import statements mention, present in the artifact or not."""
    path = module_file(root, module)
    assert path is not None
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = node.module or ""
            if node.level:
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == ELF_MAGIC, path
    assert header[4] == ELFCLASS64, path
    return int.from_bytes(header[18:20], "little")


def _tree(root: Path) -> dict[str, tuple[int, str]]:
    return {
        path.relative_to(root).as_posix(): (
            path.stat().st_mode,
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in root.rglob("*")
        if path.is_file()
    }


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _runtime_imports(node: ast.AST) -> set[str]:
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)
    else:
        children = list(ast.iter_child_nodes(node))
    names: set[str] = set()
    if isinstance(node, ast.Import):
        names |= {alias.name.split(".")[0] for alias in node.names}
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        names.add(node.module.split(".")[0])
    for child in children:
        names |= _runtime_imports(child)
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
