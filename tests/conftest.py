"""Shared fixtures: the real handler over a DynamoDB backend.

Contract tests take the `service` fixture and run once per backend: moto (in process) and
Amazon DynamoDB Local (the real engine, started once per session by the project's launcher).
"""

from __future__ import annotations

import os

# handler.app validates its settings at import; give it a complete, harmless environment first.
os.environ.setdefault("TABLE_NAME", "im-conversations-test")
os.environ.setdefault("AWS_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AUTH_MODE", "none")

pytest_plugins = ["tests.support.backends"]
