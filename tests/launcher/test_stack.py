"""The run command's stack starts the sandbox first, pointed at the Rasa server's webhooks."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings
from launcher.stack import service_specs


def test_the_sandbox_starts_first_and_delivers_to_the_rasa_channels() -> None:
    settings = Settings(rasa_token="token-123", rasa_port=6005, sandbox_port=6080)

    specs = service_specs(settings, Path("models/model.tar.gz"))

    assert [spec.name for spec in specs] == ["sandbox", "actions", "rasa"]
    sandbox = specs[0]
    assert sandbox.health_url == "http://127.0.0.1:6080/sandbox/api/health"
    assert sandbox.url == "http://127.0.0.1:6080/"
    argv = sandbox.argv
    assert argv[argv.index("--port") + 1] == "6080"
    assert argv[argv.index("--facebook-webhook") + 1] == (
        "http://127.0.0.1:6005/webhooks/facebook/webhook"
    )
    assert argv[argv.index("--x-webhook") + 1] == "http://127.0.0.1:6005/webhooks/twitter/webhook"
