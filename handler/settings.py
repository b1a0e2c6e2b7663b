"""Configuration from the environment, validated once at cold start.

A bad value stops the container at init with a message naming the variable, rather than
failing requests one by one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    aws_region: str = Field(alias="AWS_REGION", default="us-east-1", min_length=1)
    dynamodb_endpoint_url: str | None = Field(alias="DYNAMODB_ENDPOINT_URL", default=None)
    api_region: str = Field(alias="API_REGION", default="cn-north-1", min_length=1)
    # Worst case of one DynamoDB call: 3 attempts x (0.5 s connect + 1.5 s read) plus botocore's
    # throttling backoff (< 1 s + 2 s) = 9 s. A request starts no new write attempt past its 5 s
    # budget (redraws of a taken id included), so it ends within 14 s, under the template's 15 s
    # Lambda timeout and API Gateway's 29-30 s integration limit
    # (tests/reliability/test_faults.py checks the sum).
    dynamodb_connect_timeout: float = Field(alias="DYNAMODB_CONNECT_TIMEOUT", default=0.5, gt=0)
    dynamodb_read_timeout: float = Field(alias="DYNAMODB_READ_TIMEOUT", default=1.5, gt=0)
    dynamodb_max_attempts: int = Field(alias="DYNAMODB_MAX_ATTEMPTS", default=3, ge=1, le=10)
    write_budget_seconds: float = Field(alias="WRITE_BUDGET_SECONDS", default=5.0, gt=0)


def load_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    names = {field.alias for field in Settings.model_fields.values() if field.alias}
    return Settings.model_validate({name: environ[name] for name in names if environ.get(name)})
