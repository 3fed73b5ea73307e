"""Operator commands.

``python -m bot store upgrade|current``: the social store's schema.
``python -m bot inbox status``: events per state and the age of the oldest unfinished one.
``python -m bot inbox parked``: events that kept failing, with their last error.
``python -m bot inbox replay KEY... | --all``: process parked events again.
``python -m bot routing check [routing.yml]``: validate the routing rules against the domain.
``python -m bot routing explain [routing.yml] --platform ... --intent ...``: which rule matches.
``python -m bot agents add NAME --skill S [--skill ...] [--admin] [--password P]``: a new agent
(without ``--password``, asked for twice when a terminal is attached).
``python -m bot agents list``: every agent with skills and status.
``python -m bot agents token NAME``: prints a new API token for the agent, once.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.errors import InvalidInput, SocialCareError
from bot.handoff.agents import AgentDirectory, TokenKind
from bot.inbox import Inbox
from bot.routing import Router, RoutingContext, load_routing
from bot.routing.loader import domain_names
from bot.settings import Settings, environment
from bot.store import SocialStore, store_url_from_endpoints

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=ROOT / "endpoints.yml",
        help="endpoints file (social_store.url)",
    )
    areas = parser.add_subparsers(dest="area", required=True)
    store_parser = areas.add_parser("store", help="the social store's schema")
    store_parser.add_argument("action", choices=["upgrade", "current"])
    inbox_parser = areas.add_parser("inbox", help="inbound events waiting, parked or replayed")
    inbox_actions = inbox_parser.add_subparsers(dest="action", required=True)
    inbox_actions.add_parser("status", help="events per state, age of the oldest unfinished")
    inbox_actions.add_parser("parked", help="events that kept failing, with their last error")
    replay = inbox_actions.add_parser("replay", help="process parked events again")
    replay.add_argument("keys", nargs="*", help="dedupe keys of parked events")
    replay.add_argument("--all", action="store_true", help="every parked event")
    _routing_parser(areas)
    _agents_parser(areas)
    return parser


def _agents_parser(areas: Any) -> None:
    agents = areas.add_parser("agents", help="the human agents of the workspace")
    actions = agents.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create an agent")
    add.add_argument("name")
    add.add_argument("--skill", action="append", default=[], help="a skill of routing.yml (repeat)")
    add.add_argument("--admin", action="store_true", help="sees and works every skill")
    add.add_argument("--password", help="asked for when a terminal is attached and not given")
    add.add_argument("--routing", type=Path, help="routing file (default: ROUTING_FILE)")
    actions.add_parser("list", help="every agent, with skills and status")
    token = actions.add_parser("token", help="print a new API token for an agent, once")
    token.add_argument("name")


def _routing_parser(areas: Any) -> None:
    routing = areas.add_parser("routing", help="the routing rules (routing.yml)")
    actions = routing.add_subparsers(dest="action", required=True)
    for name, text in (
        ("check", "validate the file against the domain"),
        ("explain", "which rule matches a context, and why"),
    ):
        command = actions.add_parser(name, help=text)
        command.add_argument("file", nargs="?", type=Path, default=ROOT / "routing.yml")
        command.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    explain = actions.choices["explain"]
    for option in ("platform", "account", "visibility", "source", "intent", "language", "referral"):
        explain.add_argument(f"--{option}")
    explain.add_argument("--confidence", type=float, default=1.0)
    explain.add_argument("--entity", action="append", default=[], help="an entity seen (repeat)")
    explain.add_argument(
        "--slot", action="append", default=[], help="NAME=VALUE, a slot's value (repeat)"
    )


def _routing(args: argparse.Namespace) -> int:
    routing = load_routing(args.file, domain_names(args.domain))
    if args.action == "check":
        print(
            f"{args.file}: OK, {len(routing.skills)} skills, {len(routing.rules)} rules, "
            f"default {routing.default.skill}"
        )
        return 0
    slots = dict(item.split("=", 1) for item in args.slot if "=" in item)
    context = RoutingContext(
        platform=args.platform,
        account_id=args.account,
        visibility=args.visibility,
        source=args.source,
        intent=args.intent,
        confidence=args.confidence,
        entities=frozenset(args.entity),
        language=args.language,
        referral=args.referral,
        slots=slots,
    )
    decision, lines = Router(routing).explain(context)
    print("\n".join(lines))
    print(f"=> skill {decision.skill}, priority {decision.priority}")
    return 0


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise InvalidInput(
            "pass --password, or run the command in a terminal to be asked", field="password"
        )
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise InvalidInput("the two passwords differ", field="password")
    return first


def _agents(directory: AgentDirectory, args: argparse.Namespace, env: dict[str, str]) -> int:
    if args.action == "add":
        routing_path = args.routing or ROOT / Settings.from_env(env).routing_file
        known = [skill.name for skill in load_routing(routing_path).skills]
        for skill in args.skill:
            if skill not in known:
                raise InvalidInput(
                    f"unknown skill {skill!r} in {routing_path}: expected one of "
                    f"{', '.join(known)}",
                    field="--skill",
                )
        password = args.password if args.password is not None else _ask_password()
        agent = directory.add(args.name, args.skill, password=password, is_admin=args.admin)
        role = "admin, " if agent.is_admin else ""
        print(f"agent {agent.name} added ({role}skills: {', '.join(agent.skills) or '-'})")
        return 0
    if args.action == "list":
        for agent in directory.all():
            admin = "  admin" if agent.is_admin else ""
            print(f"{agent.name:<20} {agent.status.value:<8} {','.join(agent.skills)}{admin}")
        return 0
    holder = directory.by_name(args.name)
    if holder is None:
        raise InvalidInput(f"no agent named {args.name!r}", field="NAME")
    print(directory.issue_token(holder.id, TokenKind.API))
    print(
        "Keep it secret: only its digest is stored. Use it as 'Authorization: Bearer <token>'.",
        file=sys.stderr,
    )
    return 0


def _store(store: SocialStore, action: str) -> None:
    if action == "upgrade":
        store.upgrade()
    print(f"social store at revision {store.current_revision() or '(none)'}")


def _inbox(inbox: Inbox, args: argparse.Namespace) -> int:
    if args.action == "status":
        for status, count in inbox.counts().items():
            print(f"{status.value:<11} {count}")
        oldest = inbox.oldest_unfinished_at()
        if oldest is not None:
            age = (datetime.now(timezone.utc) - oldest).total_seconds()
            print(f"oldest unfinished event received {age:.0f} s ago")
        return 0
    if args.action == "parked":
        for record in inbox.parked():
            print(f"{record.dedupe_key}  attempts={record.attempts}  {record.last_error}")
        return 0
    if not args.keys and not args.all:
        print("error: name the parked events to replay, or pass --all", file=sys.stderr)
        return 2
    print(f"{inbox.replay(args.keys)} parked event(s) will be processed again")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bot``."""
    args = _parser().parse_args(argv)
    try:
        if args.area == "routing":
            return _routing(args)
        env = environment(ROOT)
        url = store_url_from_endpoints(args.endpoints, env)
        store = SocialStore.from_url(url, root=ROOT)
        try:
            if args.area == "store":
                _store(store, args.action)
                return 0
            if args.area == "agents":
                store.upgrade()
                return _agents(AgentDirectory(store), args, env)
            return _inbox(Inbox(store), args)
        finally:
            store.dispose()
    except SocialCareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
