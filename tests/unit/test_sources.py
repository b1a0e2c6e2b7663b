"""Source-level guards for what the suite's own interpreter cannot show."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLER_SOURCES = sorted((Path(__file__).parents[2] / "handler").glob("*.py"))
DOCUMENTED_NODES = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


@pytest.mark.parametrize("source", HANDLER_SOURCES, ids=lambda path: path.name)
def test_every_docstring_is_encodable_as_utf_8(source: Path) -> None:
    # Given a module of the shipped package
    tree = ast.parse(source.read_text(encoding="utf-8"))

    # When its docstrings are read
    docstrings = [
        ast.get_docstring(node, clean=False) or ""
        for node in ast.walk(tree)
        if isinstance(node, DOCUMENTED_NODES)
    ]

    # Then none holds a lone surrogate: Python 3.13 encodes docstrings to UTF-8 while compiling,
    # so an escape such as "\ud800" in one stops the module from importing at all
    assert [text for text in docstrings if not encodes_as_utf_8(text)] == []


def encodes_as_utf_8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
