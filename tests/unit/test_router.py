"""The action router: one module per Action, found by name, imported on its first request."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from handler import api
from handler.errors import ApiError, ErrorCode
from handler.gateway import HttpRequest
from handler.models import VendorModel

REPO = Path(__file__).resolve().parents[2]
CONTRACT_ACTIONS = [
    "CreateConversation",
    "BatchGetConversations",
    "GetUserConversations",
    "ModifyConversation",
    "DestroyConversation",
    "BatchAddConversationParticipant",
    "BatchDeleteConversationParticipant",
    "BatchGetConversationParticipant",
    "BatchModifyConversationParticipant",
    "ScanConversationParticipantList",
    "GetConversationUserCount",
    "IsUserInConversation",
]
READ_ACTIONS = {
    "BatchGetConversations",
    "GetUserConversations",
    "BatchGetConversationParticipant",
    "ScanConversationParticipantList",
    "GetConversationUserCount",
    "IsUserInConversation",
}


def request(action: str, *, version: str = "2020-12-01", method: str = "POST") -> HttpRequest:
    return HttpRequest(
        method=method,
        query={"Action": action, "Version": version},
        headers={},
        raw_body="",
        body_is_base64=False,
        request_id="r",
    )


def test_the_router_serves_exactly_the_contracts_twelve_actions() -> None:
    # Given the action modules of handler/actions / When the router lists them
    # Then they are the contract's actions, no more and no fewer
    assert sorted(api.action_names()) == sorted(CONTRACT_ACTIONS)


@pytest.mark.parametrize("action", CONTRACT_ACTIONS)
def test_each_action_module_owns_its_models_its_limit_and_its_domain_call(action: str) -> None:
    # Given an Action of the contract / When the router looks it up
    module = api.check_route(request(action))
    # Then its module names it, says which per-action limit applies, and owns its models
    assert action == module.ACTION
    assert ("read" if action in READ_ACTIONS else "write") == module.RATE_LIMIT
    assert issubclass(module.Request, VendorModel)
    assert "AppId" in module.Request.model_fields
    result_model = module.run.__annotations__["return"]
    assert isinstance(result_model, str)
    assert issubclass(getattr(module, result_model), BaseModel)


@pytest.mark.parametrize(
    ("action", "version"),
    [
        ("CreateConversations", "2020-12-01"),
        ("createConversation", "2020-12-01"),
        ("create_conversation", "2020-12-01"),
        ("Create_Conversation", "2020-12-01"),
        ("../app", "2020-12-01"),
        ("CreateConversation", "2021-01-01"),
        ("Api", "2020-12-01"),
    ],
)
def test_anything_but_an_action_module_name_is_invalid_action_or_version(
    action: str, version: str
) -> None:
    # Given an Action that is no module's CamelCase name, or another Version
    # When it is routed / Then the answer is InvalidActionOrVersion, naming the real ones
    with pytest.raises(ApiError) as refused:
        api.check_route(request(action, version=version))
    assert refused.value.code is ErrorCode.InvalidActionOrVersion
    assert "CreateConversation" in refused.value.message


def test_a_request_imports_only_its_own_actions_module() -> None:
    # Given a fresh interpreter that imports the handler, as a cold start does
    probe = """
import json, sys
import handler.app as app
from handler import api
from handler.gateway import HttpRequest
before = sorted(m for m in sys.modules if m.startswith("handler.actions."))
api.check_route(HttpRequest("POST", {"Action": "GetConversationUserCount",
    "Version": "2020-12-01"}, {}, "", False, "r"))
after = sorted(m for m in sys.modules if m.startswith("handler.actions."))
print(json.dumps([before, after]))
"""
    env = {"TABLE_NAME": "router-probe", "AWS_REGION": "us-east-1", "AUTH_MODE": "none"}
    # When it routes one request
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    before, after = json.loads(done.stdout)
    # Then no action was imported at start, and the request imported its own action only
    assert before == []
    assert after == ["handler.actions.get_conversation_user_count"]


def test_the_data_model_doc_has_a_row_for_every_action() -> None:
    # Given docs/data-model.md's access-pattern table
    text = (REPO / "docs" / "data-model.md").read_text(encoding="utf-8")
    row_start = re.compile(r"^\|\s*`?([A-Z][A-Za-z]+)`?[\s,(|]", re.MULTILINE)
    rows = {match.group(1) for match in row_start.finditer(text)}
    # Then each action has its row, so adding an action means adding its row too
    assert set(CONTRACT_ACTIONS) <= rows
