from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.handoff.agents import AgentDirectory
from bot.inbox import Inbox
from bot.store import SocialStore
from tests.bot.test_store import HEAD
from tests.factories import make_event


@pytest.fixture
def endpoints(tmp_path: Path) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text(f"social_store:\n  url: sqlite:///{tmp_path / 'social.db'}\n")
    return path


def _inbox(tmp_path: Path) -> Inbox:
    return Inbox(SocialStore.from_url(f"sqlite:///{tmp_path / 'social.db'}"))


def test_store_upgrade_then_current(endpoints: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--endpoints", str(endpoints), "store", "current"]) == 0
    assert main(["--endpoints", str(endpoints), "store", "upgrade"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out == ["social store at revision (none)", f"social store at revision {HEAD}"]


def test_inbox_status_parked_and_replay(
    endpoints: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--endpoints", str(endpoints), "store", "upgrade"])
    inbox = _inbox(tmp_path)
    inbox.add(make_event("messenger", dedupe_key="facebook:mid:m_1", author_id="1"))
    inbox.add(make_event("messenger", dedupe_key="facebook:mid:m_2", author_id="2"))
    [bad, _] = inbox.claim("w", lease=timedelta(seconds=30))
    inbox.fail(bad, "w", "InvalidRequest: (#100) Invalid parameter", retry_at=None)
    capsys.readouterr()

    assert main(["--endpoints", str(endpoints), "inbox", "status"]) == 0
    status = capsys.readouterr().out
    assert "parked      1" in status
    assert "processing  1" in status
    assert "oldest unfinished event received" in status

    assert main(["--endpoints", str(endpoints), "inbox", "parked"]) == 0
    assert capsys.readouterr().out.strip() == (
        "facebook:mid:m_1  attempts=1  InvalidRequest: (#100) Invalid parameter"
    )

    assert main(["--endpoints", str(endpoints), "inbox", "replay"]) == 2
    assert "name the parked events" in capsys.readouterr().err
    assert main(["--endpoints", str(endpoints), "inbox", "replay", "--all"]) == 0
    assert capsys.readouterr().out.strip() == "1 parked event(s) will be processed again"


def test_a_broken_endpoints_file_is_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "endpoints.yml"
    broken.write_text("social_store: [oops\n")

    assert main(["--endpoints", str(broken), "inbox", "status"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {broken}:")
    assert "Traceback" not in err


def test_routing_check_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routing", "check"]) == 0
    assert capsys.readouterr().out.strip().endswith("OK, 4 skills, 4 rules, default care_private")

    code = main(
        [
            *("routing", "explain", "--platform", "facebook", "--visibility", "public"),
            *("--intent", "complaint", "--confidence", "0.9"),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "MATCH -> care_public" in out
    assert out.strip().endswith("=> skill care_public, priority 1")


def test_routing_check_names_the_line_of_a_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routing = tmp_path / "routing.yml"
    routing.write_text("skills:\n  - name: care\ndefault: {skill: sales}\n")

    assert main(["routing", "check", str(routing)]) == 1

    err = capsys.readouterr().err
    assert f"{routing}:3" in err
    assert "unknown skill 'sales'" in err


def _routing_file(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yml"
    path.write_text(
        "skills:\n  - name: care_private\n  - name: deliveries\ndefault: {skill: care_private}\n"
    )
    return path


def test_agents_add_list_and_token(
    endpoints: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routing = ["--routing", str(_routing_file(tmp_path))]
    base = ["--endpoints", str(endpoints), "agents"]

    assert (
        main(
            [
                *base,
                "add",
                "sam",
                "--skill",
                "care_private",
                "--skill",
                "deliveries",
                "--password",
                "correct horse",
                *routing,
            ]
        )
        == 0
    )
    assert main([*base, "add", "boss", "--admin", "--password", "battery staple", *routing]) == 0
    assert main([*base, "list"]) == 0
    assert main([*base, "token", "sam"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "agent sam added (skills: care_private, deliveries)",
        "agent boss added (admin, skills: -)",
    ]
    assert out[2].split() == ["boss", "offline", "admin"]
    assert out[3].split() == ["sam", "offline", "care_private,deliveries"]
    token = out[4]
    store = SocialStore.from_url(f"sqlite:///{tmp_path / 'social.db'}")
    agent = AgentDirectory(store).agent_for_token(token)
    assert agent is not None
    assert agent.name == "sam"
    assert AgentDirectory(store).authenticate("sam", "correct horse") == agent


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["add", "sam", "--skill", "sales", "--password", "correct horse"],
            "unknown skill 'sales'",
        ),
        (["add", "sam", "--skill", "care_private", "--password", "short"], "at least 8"),
        (["add", "sam", "--skill", "care_private"], "pass --password"),
        (["token", "nobody"], "no agent named 'nobody'"),
    ],
)
def test_agents_errors_say_what_is_wrong(
    endpoints: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no terminal to ask at
    routing = ["--routing", str(_routing_file(tmp_path))] if args[0] == "add" else []

    assert main(["--endpoints", str(endpoints), "agents", *args, *routing]) == 1
    assert message in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("typed", "code", "message"),
    [
        (["a long password", "a long password"], 0, "agent sam added"),
        (["a long password", "another password"], 1, "the two passwords differ"),
    ],
)
def test_agents_add_asks_for_the_password_twice_at_a_terminal(
    endpoints: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    typed: list[str],
    code: int,
    message: str,
) -> None:
    answers = iter(typed)
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    routing = ["--routing", str(_routing_file(tmp_path))]

    result = main(
        ["--endpoints", str(endpoints), "agents", "add", "sam", "--skill", "care_private", *routing]
    )

    captured = capsys.readouterr()
    assert result == code
    assert message in captured.out + captured.err
