"""Turn a request body into an action's validated request, or the vendor error that says why not."""

from __future__ import annotations

import json
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from handler.errors import ApiError, ErrorCode, invalid, not_json
from handler.models import VendorModel

RequestModel = TypeVar("RequestModel", bound=VendorModel)

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
    "too_short": "{path} must have at least {min_length} entries",
    "bool_type": "{path} must be a boolean",
    "list_type": "{path} must be an array",
    "missing": "{path} is required",
}
_QUOTED_KEY_LIMIT = 64


def parse_request(model: type[RequestModel], body: bytes) -> RequestModel:
    document = _decode_json_object(body)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        detail = error.errors(include_url=False, include_input=False)[0]
        raise _api_error(detail, _id_batches(model)) from None


def _id_batches(model: type[VendorModel]) -> frozenset[str]:
    """Fields holding a batch of ConversationShortIds: a bad element has its own code."""
    return frozenset(getattr(model, "ID_BATCH_FIELDS", ()))


def _decode_json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise not_json("Request body is empty; expected a JSON object")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise not_json("Request body is not valid UTF-8") from None
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicate_keys
        )
    except json.JSONDecodeError as error:
        raise not_json(
            f"Request body is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}{_leading_zero_hint(text, error)}"
        ) from None
    except ApiError:
        raise
    except (ValueError, RecursionError) as error:
        # int() digit limits and nesting past the interpreter's recursion limit land here.
        raise not_json(f"Request body is not valid JSON: {_short(str(error))}") from None
    if not isinstance(document, dict):
        raise not_json("Request body must be a JSON object")
    return document


def _leading_zero_hint(text: str, error: json.JSONDecodeError) -> str:
    """The vendor's examples write `"AppId":000000`; say why that is refused."""
    if text[error.pos - 1 : error.pos] == "0" and text[error.pos : error.pos + 1].isdigit():
        return " (a JSON number cannot have leading zeros)"
    return ""


def _reject_constant(name: str) -> NoReturn:
    raise not_json(f"Request body is not valid JSON: {name} is not a JSON value")


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise invalid(f"Request body has the key {_quote(key)} more than once")
            seen.add(key)
    return document


def _api_error(detail: ErrorDetails, id_batches: frozenset[str]) -> ApiError:
    loc = detail["loc"]
    path = _path(loc)
    template = _MESSAGE_BY_ERROR_TYPE.get(detail["type"])
    if template is not None:
        message = template.format(path=path, **detail.get("ctx", {}))
    else:
        # A message that starts at an index continues the path: `Items[3].Id repeats ...`.
        separator = "" if detail["msg"].startswith("[") else " "
        message = f"{path}{separator}{detail['msg']}" if path else detail["msg"]
    if len(loc) == 2 and loc[0] in id_batches and isinstance(loc[1], int):
        return ApiError(
            ErrorCode.ConversationShortIdsHasInvalidElem,
            f"{message} (ConversationShortIds are integers 1 ... 9007199254740991)",
        )
    return invalid(message)


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for index, part in enumerate(loc):
        if part == "[key]":
            continue
        if path.endswith("Ext") and isinstance(part, str):
            is_key = index + 1 < len(loc) and loc[index + 1] == "[key]"
            path += f" key {_quote(part)}" if is_key else f"[{_quote(part)}]"
        elif isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _quote(value: object) -> str:
    return json.dumps(_short(str(value)))


def _short(text: str) -> str:
    return text if len(text) <= _QUOTED_KEY_LIMIT else text[:_QUOTED_KEY_LIMIT] + "…"
