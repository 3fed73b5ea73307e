"""Failed sign-ins through the real route: 429 with Retry-After once a name or an address has
failed too often, the right password included, until the window has passed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import ConfigurationError
from channels.workspace import WorkspaceInput
from tests.channels.workspace.conftest import Workbench

RIGHT = {"name": "sam", "password": "sam's password"}


async def sign_in(bench: Workbench, name: str, password: str, address: str = "10.0.0.1") -> Any:
    # The test app trusts one proxy, as a deployment behind a load balancer should.
    bench.app.config.PROXIES_COUNT = 1
    headers = {"X-Forwarded-For": address}
    return await bench.request(
        "post", "/api/session", json={"name": name, "password": password}, headers=headers
    )


async def test_after_five_failures_the_name_gets_429_with_retry_after_until_the_window_ends(
    bench: Workbench,
) -> None:
    failures = []
    for _ in range(5):
        failures.append((await sign_in(bench, "sam", "guess")).status)
        bench.clock.shift(seconds=30)

    refused = await sign_in(bench, **RIGHT, address="10.0.0.2")
    bench.clock.shift(seconds=refused.json["retry_after"])
    admitted = await sign_in(bench, **RIGHT, address="10.0.0.2")

    assert failures == [401] * 5
    assert refused.status == 429
    wait = refused.json["retry_after"]
    assert 145 <= wait <= 150  # the first failure, 150 s ago, ages out in 150 s (real time runs)
    assert refused.headers["retry-after"] == str(wait)
    assert refused.json == {
        "error": f"too many failed sign-ins for this agent name: try again in {wait} seconds",
        "retry_after": wait,
    }
    assert admitted.status == 200


async def test_one_address_failing_for_many_names_is_refused_and_others_are_not(
    bench: Workbench,
) -> None:
    for attempt in range(20):
        await sign_in(bench, f"nobody{attempt}", "guess", address="192.0.2.7")

    refused = await sign_in(bench, **RIGHT, address="192.0.2.7")
    elsewhere = await sign_in(bench, **RIGHT, address="192.0.2.8")

    assert refused.status == 429
    assert "address" in refused.json["error"]
    assert 290 <= int(refused.headers["retry-after"]) <= 300
    assert elsewhere.status == 200


async def test_a_success_resets_the_names_count(bench: Workbench) -> None:
    for _ in range(4):
        await sign_in(bench, "sam", "guess")
    await sign_in(bench, **RIGHT)

    statuses = [(await sign_in(bench, "sam", "guess")).status for _ in range(5)]

    assert statuses == [401] * 5


def test_the_limit_is_read_from_credentials() -> None:
    channel = WorkspaceInput.from_credentials(
        {
            "sign_in_failures_per_agent": 3,
            "sign_in_failures_per_address": 50,
            "sign_in_window_minutes": 15,
        }
    )

    limit = channel.sign_in_limit
    assert (limit.per_agent, limit.per_address, limit.window.total_seconds()) == (3, 50, 900)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sign_in_failures_per_agent": "many"}, "sign_in_failures_per_agent: expected a number"),
        ({"sign_in_window_minutes": 0}, "sign_in_window_minutes: expected a number above 0"),
    ],
)
def test_a_wrong_limit_names_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        WorkspaceInput.from_credentials(options)
