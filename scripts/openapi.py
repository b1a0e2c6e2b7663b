"""Write openapi.json: the API as an OpenAPI 3.1 document, generated from the action modules.

    python scripts/openapi.py           rewrite openapi.json
    python scripts/openapi.py --check   exit 1 if openapi.json is not what the models say

Every action is `POST /?Action=<Action>&Version=2020-12-01`: one URL path, the operation chosen by
a query parameter, as the vendor's API does. OpenAPI keys operations by path and method only, so
the document gives each action its own path item, keyed `/?Action=<Action>`, with its own request
body, its own success schema and a required `Version` parameter (one value). The alternative, one
`POST /` with an `Action` enum and a `oneOf` body, would document the API worse (nothing in it
ties a body to its Action, nor a Result to its request) and fuzz it worse: schemathesis draws the
parameter and the body independently, so 11 of 12 "valid" cases would pair one action's body with
another's Action and be refused before the action runs. Keyed per action, every generated case
reaches its own action's validation and domain, each action is listed (and fuzzed) on its own, and
the document reads as the vendor's per-action pages do. OpenAPI 3.1 only requires a path key to
start with "/"; clients that build URLs from it (schemathesis, Swagger UI, generators that
concatenate server URL and path) send `/?Action=<Action>` followed by `&Version=…`.

Request and response schemas come from each action's pydantic models (handler/actions/), the
error responses from the error table in handler/errors.py, so the document changes only when the
code does. Dev tooling only.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, get_type_hints

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pydantic import BaseModel, create_model  # noqa: E402
from pydantic.json_schema import GenerateJsonSchema, models_json_schema  # noqa: E402
from pydantic_core import core_schema  # noqa: E402

from handler.api import ALLOWED_METHOD, VERSION, action_names, find_action_module  # noqa: E402
from handler.errors import ErrorCode  # noqa: E402
from handler.gateway import MAX_BODY_BYTES  # noqa: E402
from handler.models import ErrorResponse, ResponseMetadata  # noqa: E402

OPENAPI_PATH = REPO / "openapi.json"
MEDIA_TYPE = "application/json"


class _WithoutFieldTitles(GenerateJsonSchema):
    """pydantic titles each field after its name ("Appid"); the vendor's names say it already."""

    def field_title_should_be_set(self, schema: core_schema.CoreSchema) -> bool:  # type: ignore[override]
        return False


def path_of(action: str) -> str:
    """The path item key of `action`: the one URL path, and the query parameter that selects it."""
    return f"/?Action={action}"


def _named(model: type[BaseModel], name: str) -> type[BaseModel]:
    """`model` under the schema name `name` (every action's request class is named Request)."""
    return type(name, (model,), {"__doc__": model.__doc__, "__module__": model.__module__})


def _success_model(action: str, result: type[BaseModel]) -> type[BaseModel]:
    """The success envelope of `action`: ResponseMetadata and its Result."""
    return create_model(
        f"{action}Response",
        __doc__=f"{action} succeeded: the envelope and its Result.",
        ResponseMetadata=(ResponseMetadata, ...),
        Result=(result, ...),
    )


def document() -> dict[str, Any]:
    modules = {action: find_action_module(action) for action in action_names()}
    requests = {
        action: _named(module.Request, f"{action}Request") for action, module in modules.items()
    }
    successes = {
        action: _success_model(action, get_type_hints(module.run)["return"])
        for action, module in modules.items()
    }
    refs, definitions = models_json_schema(
        [
            *((model, "validation") for model in requests.values()),
            *((model, "serialization") for model in successes.values()),
            (ErrorResponse, "serialization"),
        ],
        ref_template="#/components/schemas/{model}",
        schema_generator=_WithoutFieldTitles,
    )
    error = refs[(ErrorResponse, "serialization")]
    paths = {
        path_of(action): {
            "post": _operation(
                action,
                module.__doc__ or action,
                refs[(requests[action], "validation")],
                refs[(successes[action], "serialization")],
                error,
            )
        }
        for action, module in modules.items()
    }
    result = {
        "openapi": "3.1.0",
        "info": {
            "title": "IM conversations and participants",
            "version": VERSION,
            "description": (
                "Self-hosted Volcengine IM server OpenAPI: the conversation and participant "
                "actions. A client written for the vendor's API works by changing only the "
                "host. Every action is POST /?Action=<Action>&Version=" + VERSION + "."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:3000", "description": "make serve"}],
        "paths": paths,
        "components": {"schemas": definitions["$defs"]},
    }
    return _readable_names(result)


def _readable_names(openapi: dict[str, Any]) -> dict[str, Any]:
    """pydantic names the models it must tell apart by module ("handler__actions__x__Result");
    name them by action instead ("XResult"), and drop a lone "-Output" suffix."""
    schemas = openapi["components"]["schemas"]
    renames: dict[str, str] = {}
    for name in schemas:
        new = name
        if name.startswith("handler__actions__"):
            module, _, model = name.removeprefix("handler__actions__").rpartition("__")
            new = "".join(part.title() for part in module.split("_")) + model
        elif name.endswith("-Output") and name.removesuffix("-Output") not in schemas:
            new = name.removesuffix("-Output")
        renames[name] = new
    if len(set(renames.values())) != len(renames):
        raise ValueError(f"two schemas would share a name: {renames}")
    prefix = "#/components/schemas/"

    def rewrite(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: (prefix + renames[item.removeprefix(prefix)])
                if key == "$ref" and isinstance(item, str) and item.startswith(prefix)
                else rewrite(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [rewrite(item) for item in value]
        return value

    renamed: dict[str, Any] = rewrite(openapi)
    renamed["components"]["schemas"] = {
        renames[name]: schema for name, schema in renamed["components"]["schemas"].items()
    }
    renamed["components"]["schemas"] = dict(sorted(renamed["components"]["schemas"].items()))
    return renamed


def _operation(
    action: str,
    docstring: str,
    request: dict[str, Any],
    success: dict[str, Any],
    error: dict[str, Any],
) -> dict[str, Any]:
    summary, _, details = docstring.strip().partition("\n")
    return {
        "operationId": action,
        "summary": _sentence(summary.removeprefix(f"{action}: ")),
        "description": (
            (details.strip() + "\n\n" if details.strip() else "")
            + f"Any other method than {ALLOWED_METHOD} is answered 405 MethodNotAllowed, with "
            f"an Allow: {ALLOWED_METHOD} header."
        ),
        "parameters": [_query_parameter("Version", VERSION)],
        "requestBody": {
            "required": True,
            "description": (
                f"A JSON object in UTF-8, at most {MAX_BODY_BYTES} bytes; a larger body is "
                "refused with 413 before it is read."
            ),
            "content": {MEDIA_TYPE: {"schema": request}},
        },
        "responses": {
            "200": _response(f"{action} succeeded", success),
            **{
                str(status): _response(description, error, _headers(status))
                for status, description in _error_statuses()
            },
        },
    }


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:].rstrip(".")


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
