"""Configuration from the environment, validated once at cold start.

A bad value stops the container at init with a message naming the variable, rather than
failing requests one by one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

# signature: this function checks the vendor's HMAC-SHA256 signatures (the deployed default).
# iam: API Gateway's AWS_IAM authorizer authenticates; the function only requires its verdict.
# none: no authentication (the local runner's default; it listens on loopback only).
AuthMode = Literal["signature", "iam", "none"]
KEY_SOURCES = ("AUTH_KEYS_SECRET_ID", "AUTH_KEYS_FILE", "AUTH_KEYS_JSON")


class SettingsError(ValueError):
    """The environment is invalid; the message names the variables and never echoes a value."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    aws_region: str = Field(alias="AWS_REGION", default="us-east-1", min_length=1)
    dynamodb_endpoint_url: str | None = Field(alias="DYNAMODB_ENDPOINT_URL", default=None)
    api_region: str = Field(alias="API_REGION", default="cn-north-1", min_length=1)
    # These bound every AWS call (DynamoDB and the key secret's Secrets Manager fetch alike).
    # One call: 2 attempts x (0.25 s connect + 1 s read) + botocore's throttling backoff between
    # them (at most 1 s; the clients drop x-amz-retry-after, see aws_clients.py) = 3.5 s.
    # One request makes at most: the secret fetch, the rate limiter's UpdateItem, write attempts
    # until the 2 s budget (redraws of a taken id included), one last write, its two fallback
    # GetItems and an `Exist: true` answer's read of the conversation = 2 s + 6 x 3.5 s = 23 s,
    # under the template's 25 s Lambda timeout, itself under API Gateway's 30 s.
    # Three attempts would not fit: their throttling backoff alone is 3 s per call, 18 s in all.
    dynamodb_connect_timeout: float = Field(alias="DYNAMODB_CONNECT_TIMEOUT", default=0.25, gt=0)
    dynamodb_read_timeout: float = Field(alias="DYNAMODB_READ_TIMEOUT", default=1.0, gt=0)
    dynamodb_max_attempts: int = Field(alias="DYNAMODB_MAX_ATTEMPTS", default=2, ge=1, le=10)
    write_budget_seconds: float = Field(alias="WRITE_BUDGET_SECONDS", default=2.0, gt=0)
    # Fail closed: a function deployed without AUTH_MODE checks signatures, and refuses to start
    # without a key source.
    auth_mode: AuthMode = Field(alias="AUTH_MODE", default="signature")
    auth_keys_secret_id: str | None = Field(alias="AUTH_KEYS_SECRET_ID", default=None)
    auth_keys_file: str | None = Field(alias="AUTH_KEYS_FILE", default=None)
    auth_keys_json: SecretStr | None = Field(alias="AUTH_KEYS_JSON", default=None)
    # How long a fetched copy of the Secrets Manager key document is used before re-reading it:
    # the longest a new or revoked key waits to take effect.
    auth_keys_max_age_seconds: int = Field(alias="AUTH_KEYS_MAX_AGE", default=300, ge=1)
    # Per access key and action, held across all instances: the vendor's documented limits.
    rate_limit_write_per_second: int = Field(alias="RATE_LIMIT_WRITE_PER_SECOND", default=50, ge=1)
    rate_limit_read_per_second: int = Field(alias="RATE_LIMIT_READ_PER_SECOND", default=100, ge=1)
    # The vendor's FAQ (docs 6348/914736): 200 members in a group chat, 10000 in a live group.
    group_member_limit: int = Field(alias="GROUP_MEMBER_LIMIT", default=200, ge=1, le=10_000_000)
    live_group_member_limit: int = Field(
        alias="LIVE_GROUP_MEMBER_LIMIT", default=10_000, ge=1, le=10_000_000
    )

    # Powertools' own variables, read here so a typo fails at init instead of going unnoticed.
    service_name: str = Field(
        alias="POWERTOOLS_SERVICE_NAME", default="im-conversations", min_length=1
    )
    metrics_namespace: str = Field(
        alias="POWERTOOLS_METRICS_NAMESPACE", default="ImConversations", min_length=1
    )
    trace_disabled: bool = Field(alias="POWERTOOLS_TRACE_DISABLED", default=False)
    # Set by the Lambda runtime (and by `sam local`, which has no X-Ray daemon to send to).
    lambda_task_root: str | None = Field(alias="LAMBDA_TASK_ROOT", default=None)
    sam_local: bool = Field(alias="AWS_SAM_LOCAL", default=False)

    @property
    def tracing_enabled(self) -> bool:
        """Powertools' rule: trace in Lambda unless switched off; never where no daemon listens."""
        return not self.trace_disabled and bool(self.lambda_task_root) and not self.sam_local

    @model_validator(mode="after")
    def _one_key_source_for_signatures(self) -> Self:
        sources = [self.auth_keys_secret_id, self.auth_keys_file, self.auth_keys_json]
        configured = sum(source is not None for source in sources)
        if self.auth_mode == "signature" and configured != 1:
            raise ValueError(
                f"AUTH_MODE=signature needs exactly one of {', '.join(KEY_SOURCES)} "
                f"({configured} set); AUTH_MODE=none turns authentication off"
            )
        return self


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    names = {field.alias for field in Settings.model_fields.values() if field.alias}
    try:
        return Settings.model_validate({name: environ[name] for name in names if environ.get(name)})
    except ValidationError as error:
        # pydantic's own message quotes the input, and AUTH_KEYS_JSON holds secrets.
        problems = "; ".join(
            f"{'.'.join(map(str, detail['loc'])) or 'environment'}: {detail['msg']}"
            for detail in error.errors(include_input=False, include_url=False)
        )
        raise SettingsError(f"Invalid environment: {problems}") from None
