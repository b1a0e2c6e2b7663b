"""The handler pauses garbage collection while it starts; it must never leave it paused."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_handler_leaves_garbage_collection_on() -> None:
    # Given a fresh interpreter, as a Lambda sandbox starts one
    probe = "import gc, handler.app; print(gc.isenabled(), gc.get_freeze_count() > 0)"

    # When it imports the handler module
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env={
            "TABLE_NAME": "cold-start-probe",
            "AWS_REGION": "us-east-1",
            "AUTH_MODE": "none",
            "PATH": "",
        },
        capture_output=True,
        text=True,
        check=True,
    )

    # Then collection is back on, and what the cold start built is out of its way
    assert done.stdout.split() == ["True", "True"]
    assert gc.isenabled()
