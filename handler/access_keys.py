"""Where access keys come from: AWS Secrets Manager when deployed, a file or a variable locally.

All sources hold the same JSON document, one entry per access key:

    {"AKLTexample": {"SecretAccessKey": "...", "AppIds": [10, 11]}}

A key may act only on the AppIds it lists. No message raised here quotes the document, so a
secret cannot reach a log line or a response through an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from handler.auth import AccessKey, KeyLookup
from handler.aws_clients import new_client
from handler.domain.errors import StoreUnavailableError
from handler.models import INT32_MAX

if TYPE_CHECKING:
    from handler.settings import Settings
    from handler.store import ClientSettings

AccessKeyId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^/\s]+$")]


class _KeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    SecretAccessKey: str = Field(min_length=1, repr=False)
    AppIds: list[Annotated[int, Field(ge=1, le=INT32_MAX)]] = Field(min_length=1)


class _KeyDocument(BaseModel):
    model_config = ConfigDict(strict=True)

    keys: dict[AccessKeyId, _KeyEntry]


class KeyDocumentError(ValueError):
    """The key document is not valid; the message says where, never what the values are."""


def parse_key_document(text: str) -> dict[str, AccessKey]:
    try:
        document = _KeyDocument.model_validate({"keys": json.loads(text)})
    except json.JSONDecodeError as error:
        raise KeyDocumentError(
            f"access key document is not valid JSON (line {error.lineno})"
        ) from None
    except ValidationError as error:
        detail = error.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in detail["loc"][1:]) or "document"
        raise KeyDocumentError(
            f"access key document is invalid at {where}: {detail['msg']}"
        ) from None
    return {
        access_key_id: AccessKey(
            access_key_id=access_key_id,
            secret_access_key=entry.SecretAccessKey,
            app_ids=frozenset(entry.AppIds),
        )
        for access_key_id, entry in document.keys.items()
    }


class StaticKeys:
    """Keys read once at start-up, from a file or an environment variable (local use)."""

    def __init__(self, keys: Mapping[str, AccessKey]) -> None:
        self._keys = dict(keys)

    def __call__(self, access_key_id: str) -> AccessKey | None:
        return self._keys.get(access_key_id)


class SecretsManagerKeys:
    """Keys in one Secrets Manager secret, re-read at most every `max_age_seconds`."""

    def __init__(
        self, secret_id: str, *, max_age_seconds: int, client_settings: ClientSettings
    ) -> None:
        # Imported here: the parameters utility and its client add ~20 ms to a cold start, paid
        # only by functions that read their keys from Secrets Manager.
        from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415

        # The DynamoDB client's timeouts and retries, not botocore's defaults (60 s reads), so
        # a slow Secrets Manager costs a request no more than a slow DynamoDB call does.
        client = new_client("secretsmanager", client_settings)
        self._provider = SecretsProvider(boto3_client=client)
        self._secret_id = secret_id
        self._max_age = max_age_seconds
        self._parsed_from: str | None = None
        self._keys: dict[str, AccessKey] = {}

    def __call__(self, access_key_id: str) -> AccessKey | None:
        from aws_lambda_powertools.utilities.parameters import GetParameterError  # noqa: PLC0415

        try:
            text = self._provider.get(self._secret_id, max_age=self._max_age)
        except GetParameterError as error:
            raise StoreUnavailableError("access keys could not be read") from error
        if text != self._parsed_from:
            self._keys = parse_key_document(str(text))
            self._parsed_from = str(text)
        return self._keys.get(access_key_id)


def key_lookup(settings: Settings, client_settings: ClientSettings) -> KeyLookup | None:
    """The configured source of access keys, or None when this function checks no signatures."""
    if settings.auth_mode != "signature":
        return None
    if settings.auth_keys_secret_id is not None:
        return SecretsManagerKeys(
            settings.auth_keys_secret_id,
            max_age_seconds=settings.auth_keys_max_age_seconds,
            client_settings=client_settings,
        )
    if settings.auth_keys_file is not None:
        text = Path(settings.auth_keys_file).read_text(encoding="utf-8")
    elif settings.auth_keys_json is not None:
        text = settings.auth_keys_json.get_secret_value()
    else:  # settings refuse signature mode without a source
        raise AssertionError("no access key source")
    return StaticKeys(parse_key_document(text))
