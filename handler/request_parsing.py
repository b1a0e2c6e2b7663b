"""Turn a request body into a validated request, or into the vendor error that explains why not."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from handler.errors import ApiError, invalid, missing
from handler.models import CreateConversationRequest

_MESSAGE_BY_ERROR_TYPE = {
    "int_type": "{path} must be an integer",
    "string_type": "{path} must be a string",
    "dict_type": "{path} must be an object",
    "model_type": "{path} must be an object",
    "model_attributes_type": "{path} must be an object",
    "string_too_long": "{path} must be at most {max_length} characters",
    "string_too_short": "{path} must not be empty",
    "string_unicode": "{path} must be valid Unicode (no lone surrogates)",
    "too_long": "{path} must have at most {max_length} entries",
}
_MISSING_ERROR_TYPES = {"missing", "required_for_single_chat"}
_QUOTED_KEY_LIMIT = 64


def parse_create_request(body: bytes) -> CreateConversationRequest:
    document = _decode_json_object(body)
    try:
        return CreateConversationRequest.model_validate(document)
    except ValidationError as error:
        raise _api_error(error.errors(include_url=False, include_input=False)[0]) from None


def _decode_json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise invalid("Request body is empty; expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid("Request body is not valid UTF-8") from None
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_keys
        )
    except json.JSONDecodeError as error:
        raise invalid(
            f"Request body is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}"
        ) from None
    except ApiError:
        raise
    except (ValueError, RecursionError) as error:
        # int() digit limits and nesting past the interpreter's recursion limit land here.
        raise invalid(f"Request body is not valid JSON: {_short(str(error))}") from None
    if not isinstance(document, dict):
        raise invalid("Request body must be a JSON object")
    return document


def _reject_constant(name: str) -> NoReturn:
    raise invalid(f"Request body is not valid JSON: {name} is not a JSON value")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise invalid(f"Request body has the key {_quote(key)} more than once")
            seen.add(key)
    return document


def _api_error(detail: ErrorDetails) -> ApiError:
    path = _path(detail["loc"])
    error_type = detail["type"]
    if error_type in _MISSING_ERROR_TYPES:
        return missing(f"{path} is required" if error_type == "missing" else detail["msg"])
    template = _MESSAGE_BY_ERROR_TYPE.get(error_type)
    if template is not None:
        return invalid(template.format(path=path, **detail.get("ctx", {})))
    return invalid(f"{path} {detail['msg']}" if path else detail["msg"])


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if path.endswith(".Ext"):
            is_key = index + 1 < len(loc) and loc[index + 1] == "[key]"
            path += f" key {_quote(part)}" if is_key else f"[{_quote(part)}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _quote(value: object) -> str:
    return json.dumps(_short(str(value)))


def _short(text: str) -> str:
    return text if len(text) <= _QUOTED_KEY_LIMIT else text[:_QUOTED_KEY_LIMIT] + "…"
