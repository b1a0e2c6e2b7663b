"""Runs inside a fresh interpreter whose only non-stdlib path is an unpacked artifact.

    python -S -s -P tests/support/artifact_driver.py < {"events": [[name, event], ...]}

Imports handler.app from the artifact, hands it each event, and prints one JSON document: the
answers, sys.path, where every imported module came from, and which botocore service models
were loaded. Standard library only here: nothing of the repository's may leak in.
"""

import json
import sys


def main() -> None:
    request = json.load(sys.stdin)
    # Recorded before the handler's import creates its clients.
    import botocore.loaders  # noqa: PLC0415 - from the artifact, after stdin is read

    loaded: list[str] = []
    original = botocore.loaders.Loader.load_service_model

    def load_service_model(self: object, service_name: str, *args: object, **kw: object) -> object:
        loaded.append(service_name)
        return original(self, service_name, *args, **kw)  # type: ignore[arg-type]

    botocore.loaders.Loader.load_service_model = load_service_model  # type: ignore[method-assign]

    import handler.app  # noqa: PLC0415 - the cold start under test

    class Context:
        aws_request_id = "artifact-test"
        function_name = "CreateConversationFunction"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"

        def get_remaining_time_in_millis(self) -> int:
            return 20_000

    answers = []
    for name, event in request["events"]:
        response = handler.app.lambda_handler(event, Context())
        answers.append(
            {"event": name, "statusCode": response["statusCode"], "body": response["body"]}
        )
    origins = {
        name: getattr(module, "__file__", None) for name, module in sorted(sys.modules.items())
    }
    print(
        json.dumps(
            {
                "answers": answers,
                "sys_path": sys.path,
                "base_prefix": sys.base_prefix,
                "origins": origins,
                "models": loaded,
            }
        )
    )


if __name__ == "__main__":
    main()
