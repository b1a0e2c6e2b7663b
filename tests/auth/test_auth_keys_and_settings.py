"""Where keys come from (file, variable, Secrets Manager) and how AUTH_* settings are checked."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from handler.access_keys import (
    KeyDocumentError,
    SecretsManagerKeys,
    key_lookup,
    parse_key_document,
)
from handler.domain.errors import StoreUnavailableError
from handler.settings import SettingsError, load_settings
from handler.store import ClientSettings
from tests.support.clients import hook_every_new_client

SECRET = "s3cr3t-never-printed"  # noqa: S105 - a test key
DOCUMENT = json.dumps({"AKLTone": {"SecretAccessKey": SECRET, "AppIds": [10, 11]}})
CLIENT = ClientSettings(
    region="us-east-1", endpoint_url=None, connect_timeout=1, read_timeout=1, max_attempts=1
)


def test_a_key_document_gives_each_key_its_secret_and_app_ids():
    keys = parse_key_document(DOCUMENT)
    assert set(keys) == {"AKLTone"}
    assert keys["AKLTone"].secret_access_key == SECRET
    assert keys["AKLTone"].app_ids == {10, 11}


@pytest.mark.parametrize(
    "document",
    [
        pytest.param("{not json " + SECRET, id="not-json"),
        pytest.param(json.dumps([SECRET]), id="not-an-object"),
        pytest.param(json.dumps({"AK": {"SecretAccessKey": SECRET, "AppIds": []}}), id="no-apps"),
        pytest.param(json.dumps({"AK": {"SecretAccessKey": SECRET, "AppIds": [0]}}), id="app-0"),
        pytest.param(
            json.dumps({"AK": {"SecretAccessKey": SECRET, "AppIds": ["10"]}}), id="app-string"
        ),
        pytest.param(json.dumps({"AK": {"AppIds": [10]}}), id="no-secret"),
        pytest.param(json.dumps({"AK": {"SecretAccessKey": 12345, "AppIds": [10]}}), id="number"),
        pytest.param(
            json.dumps({"AK": {"SecretAccessKey": SECRET, "AppIds": [10], "Extra": SECRET}}),
            id="unknown-field",
        ),
        pytest.param(json.dumps({"A/K": {"SecretAccessKey": SECRET, "AppIds": [1]}}), id="slash"),
    ],
)
def test_an_invalid_key_document_is_refused_without_quoting_it(document):
    # Given an invalid key document that contains a secret
    # When it is parsed, Then it is refused, and the message does not repeat the secret
    with pytest.raises(KeyDocumentError) as refused:
        parse_key_document(document)
    assert SECRET not in str(refused.value)
    assert "12345" not in str(refused.value)


def test_keys_come_from_a_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(DOCUMENT, encoding="utf-8")
    settings = load_settings({"TABLE_NAME": "table", "AUTH_KEYS_FILE": str(path)})
    lookup = key_lookup(settings, CLIENT)
    assert lookup is not None
    assert lookup("AKLTone").app_ids == {10, 11}
    assert lookup("AKLTtwo") is None


def test_keys_come_from_a_variable():
    settings = load_settings({"TABLE_NAME": "table", "AUTH_KEYS_JSON": DOCUMENT})
    lookup = key_lookup(settings, CLIENT)
    assert lookup is not None
    assert lookup("AKLTone").secret_access_key == SECRET


@pytest.mark.parametrize("mode", ["none", "iam"])
def test_no_keys_are_read_when_signatures_are_off(mode):
    settings = load_settings({"TABLE_NAME": "table", "AUTH_MODE": mode})
    assert key_lookup(settings, CLIENT) is None


@pytest.fixture
def secrets_manager(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        calls: list[str] = []
        hook_every_new_client(
            monkeypatch,
            "before-parameter-build.secrets-manager.GetSecretValue",
            lambda params, **_: calls.append(params["SecretId"]),
        )
        client = boto3.client("secretsmanager", region_name="us-east-1")
        yield client, calls


def test_keys_come_from_secrets_manager_and_are_cached(secrets_manager):
    # Given the key document in a secret
    client, calls = secrets_manager
    arn = client.create_secret(Name="im/keys", SecretString=DOCUMENT)["ARN"]
    keys = SecretsManagerKeys(arn, max_age_seconds=300, client_settings=CLIENT)
    # When keys are looked up three times within max_age
    found = [keys("AKLTone"), keys("AKLTone"), keys("AKLTunknown")]
    # Then the secret was read once, and known keys found
    assert calls == [arn]
    assert found[0] is not None and found[0].app_ids == {10, 11}
    assert found[2] is None


def test_an_unreadable_secret_is_storage_unavailable(secrets_manager):
    # Given a secret id that does not exist
    keys = SecretsManagerKeys("im/missing", max_age_seconds=300, client_settings=CLIENT)
    # When a key is looked up, Then it fails as unavailable (503), not as an unknown key
    with pytest.raises(StoreUnavailableError):
        keys("AKLTone")


def test_signature_mode_is_the_default_and_needs_a_key_source():
    # Given no AUTH_MODE and no key source, When settings load, Then they fail naming both
    with pytest.raises(SettingsError) as refused:
        load_settings({"TABLE_NAME": "table"})
    assert "AUTH_MODE=signature" in str(refused.value)
    assert "AUTH_KEYS_SECRET_ID" in str(refused.value)


def test_two_key_sources_are_ambiguous():
    with pytest.raises(SettingsError):
        load_settings(
            {"TABLE_NAME": "table", "AUTH_KEYS_JSON": DOCUMENT, "AUTH_KEYS_FILE": "/x.json"}
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"AUTH_MODE": "open"},
        {"RATE_LIMIT_WRITE_PER_SECOND": "0"},
        {"RATE_LIMIT_READ_PER_SECOND": "0"},
        {"GROUP_MEMBER_LIMIT": "0"},
        {"LIVE_GROUP_MEMBER_LIMIT": "x"},
        {"AUTH_KEYS_MAX_AGE": "-1"},
    ],
)
def test_a_bad_auth_setting_fails_at_start_up_without_echoing_the_keys(bad):
    # Given an invalid setting next to a key document in the environment
    environ = {"TABLE_NAME": "table", "AUTH_KEYS_JSON": DOCUMENT, **bad}
    # When settings load, Then they fail naming the variable, and the secret is not in the text
    with pytest.raises(SettingsError) as refused:
        load_settings(environ)
    assert next(iter(bad)) in str(refused.value)
    assert SECRET not in str(refused.value)


def test_rate_limits_default_to_the_vendors_fifty_writes_and_hundred_reads_per_second():
    # Given no rate limit in the environment, When settings load
    settings = load_settings({"TABLE_NAME": "table", "AUTH_MODE": "none"})
    # Then writes get the vendor's 50 per second and reads 100, per caller and action
    assert (settings.rate_limit_write_per_second, settings.rate_limit_read_per_second) == (50, 100)
    # And the member limits are the vendor FAQ's: 200 in a group, 10000 in a live group
    assert (settings.group_member_limit, settings.live_group_member_limit) == (200, 10_000)


def test_the_old_single_rate_limit_variable_is_not_read():
    # Given a deployment that still sets the old RATE_LIMIT_PER_SECOND
    settings = load_settings(
        {"TABLE_NAME": "table", "AUTH_MODE": "none", "RATE_LIMIT_PER_SECOND": "1"}
    )
    # Then it changes nothing: the limits are the per-class defaults
    assert (settings.rate_limit_write_per_second, settings.rate_limit_read_per_second) == (50, 100)
