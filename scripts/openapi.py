"""Write openapi.json: the API as an OpenAPI 3.1 document, generated from handler/models.py.

    python scripts/openapi.py           rewrite openapi.json
    python scripts/openapi.py --check   exit 1 if openapi.json is not what the models say

Request and response schemas come from the pydantic models, the error responses from the error
table in handler/errors.py, so the document changes only when the code does. Dev tooling only.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pydantic.json_schema import GenerateJsonSchema, models_json_schema  # noqa: E402
from pydantic_core import core_schema  # noqa: E402

from handler.api import ACTION, ALLOWED_METHOD, VERSION  # noqa: E402
from handler.errors import ErrorCode  # noqa: E402
from handler.gateway import MAX_BODY_BYTES  # noqa: E402
from handler.models import (  # noqa: E402
    CreateConversationRequest,
    CreateConversationResponse,
    ErrorResponse,
)

OPENAPI_PATH = REPO / "openapi.json"
MEDIA_TYPE = "application/json"


class _WithoutFieldTitles(GenerateJsonSchema):
    """pydantic titles each field after its name ("Appid"); the vendor's names say it already."""

    def field_title_should_be_set(self, schema: core_schema.CoreSchema) -> bool:  # type: ignore[override]
        return False


def document() -> dict[str, Any]:
    refs, definitions = models_json_schema(
        [
            (CreateConversationRequest, "validation"),
            (CreateConversationResponse, "serialization"),
            (ErrorResponse, "serialization"),
        ],
        ref_template="#/components/schemas/{model}",
        schema_generator=_WithoutFieldTitles,
    )
    request = refs[(CreateConversationRequest, "validation")]
    success = refs[(CreateConversationResponse, "serialization")]
    error = refs[(ErrorResponse, "serialization")]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "IM CreateConversation",
            "version": VERSION,
            "description": (
                "Self-hosted Volcengine IM server API CreateConversation. A client written for "
                "the vendor's API works by changing only the host."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make serve"}],
        "paths": {"/": {"post": _create_conversation(request, success, error)}},
        "components": {"schemas": definitions["$defs"]},
    }


def _create_conversation(
    request: dict[str, Any], success: dict[str, Any], error: dict[str, Any]
) -> dict[str, Any]:
    return {
        "operationId": ACTION,
        "summary": "Create a conversation, or return the one that already exists",
        "description": (
            f"Any other method than {ALLOWED_METHOD} is answered 405 MethodNotAllowed, with an "
            f"Allow: {ALLOWED_METHOD} header."
        ),
        "parameters": [
            _query_parameter("Action", ACTION),
            _query_parameter("Version", VERSION),
        ],
        "requestBody": {
            "required": True,
            "description": (
                f"A JSON object in UTF-8, at most {MAX_BODY_BYTES} bytes; a larger body is "
                "refused with 413 before it is read."
            ),
            "content": {MEDIA_TYPE: {"schema": request}},
        },
        "responses": {
            "200": _response(
                "The conversation, with Exist false if this request created it", success
            ),
            **{
                str(status): _response(description, error, _headers(status))
                for status, description in _error_statuses()
            },
        },
    }


def _query_parameter(name: str, value: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "schema": {"type": "string", "enum": [value]},
    }


def _response(
    description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = {"description": description, "content": {MEDIA_TYPE: {"schema": schema}}}
    return {**response, "headers": headers} if headers else response


def _headers(status: int) -> dict[str, Any] | None:
    if status != ErrorCode.MethodNotAllowed.http_status:
        return None
    return {"Allow": {"required": True, "schema": {"type": "string", "enum": [ALLOWED_METHOD]}}}


def _error_statuses() -> list[tuple[int, str]]:
    """(HTTP status, the codes answered with it), in status order."""
    codes_by_status: dict[int, list[str]] = defaultdict(list)
    for code in ErrorCode:
        suffix = f" (CodeN {code.code_n})" if code.code_n is not None else ""
        codes_by_status[code.http_status].append(f"{code.name}{suffix}")
    return [(status, ", ".join(codes)) for status, codes in sorted(codes_by_status.items())]


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    text = render()
    if sys.argv[1:] == ["--check"]:
        if OPENAPI_PATH.read_text(encoding="utf-8") != text:
            sys.exit(f"{OPENAPI_PATH.name} is out of date: run python scripts/openapi.py")
        return
    OPENAPI_PATH.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
