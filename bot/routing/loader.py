"""Reading ``routing.yml``: every error names the file, the line and what was expected.

Checked: the file's shape (unknown keys, types, ranges), time zones and opening hours, that every
skill a rule, a default or a fallback names exists, and, given the domain, that intents, entities
and slots in conditions exist in the bot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError

from bot.errors import ConfigurationError
from bot.routing.model import RoutingFile
from bot.yamlconfig import load_yaml

__all__ = ["DomainNames", "RoutingProblem", "domain_names", "load_routing", "validate_routing"]


@dataclass(frozen=True)
class DomainNames:
    """What the bot knows, for checking conditions against it."""

    intents: frozenset[str]
    entities: frozenset[str]
    slots: frozenset[str]


@dataclass(frozen=True)
class RoutingProblem:
    """One problem of the file: where and what."""

    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.key}: {self.message}" if self.key else f"{where}{self.message}"


class _PlainRoundTrip(RoundTripConstructor):
    """Round-trip loading (for line numbers), unaffected by Rasa's ``!env_var`` tag."""


_PlainRoundTrip.add_constructor("!env_var", RoundTripConstructor.construct_yaml_str)


def _line_of(document: Any, location: Iterable[str | int]) -> int | None:
    """The 1-based line of the deepest node of ``location`` found in the round-trip document."""
    node, line = document, None
    for part in location:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _plain(node: Any) -> Any:
    if isinstance(node, Mapping):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _key(location: Iterable[str | int]) -> str:
    key = ""
    for part in location:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def validate_routing(
    document: Any, domain: DomainNames | None = None
) -> tuple[RoutingFile | None, list[RoutingProblem]]:
    """The routing file and every problem found in a round-trip ``document``."""
    if not isinstance(document, Mapping):
        return None, [RoutingProblem(1, "(top)", "expected skills, rules and default")]
    try:
        routing = RoutingFile.parse_obj(_plain(document))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = [part for part in error["loc"] if part != "__root__"]
            problems.append(
                RoutingProblem(_line_of(document, location), _key(location), error["msg"])
            )
        return None, problems
    return routing, _cross_check(document, routing, domain)


def _cross_check(
    document: Any, routing: RoutingFile, domain: DomainNames | None
) -> list[RoutingProblem]:
    problems: list[RoutingProblem] = []

    def problem(location: list[str | int], message: str) -> None:
        problems.append(RoutingProblem(_line_of(document, location), _key(location), message))

    names = [skill.name for skill in routing.skills]
    known = set(names)
    for index, name in enumerate(names):
        if names.index(name) != index:
            problem(["skills", index, "name"], f"skill {name!r} is defined twice")

    def check_skill(location: list[str | int], name: str | None) -> None:
        if name is not None and name not in known:
            problem(location, f"unknown skill {name!r}: expected one of {', '.join(names)}")

    for index, skill in enumerate(routing.skills):
        check_skill(["skills", index, "when_closed", "skill"], skill.when_closed.skill)
        check_skill(["skills", index, "when_full", "skill"], skill.when_full.skill)
    check_skill(["default", "skill"], routing.default.skill)
    for index, rule in enumerate(routing.rules):
        where: list[str | int] = ["rules", index]
        check_skill([*where, "then", "skill"], rule.then.skill)
        if domain is None:
            continue
        for kind, used, available in (
            ("intents", rule.when.intents, domain.intents),
            ("entities", rule.when.entities, domain.entities),
            ("slots", list(rule.when.slots or {}), domain.slots),
        ):
            for name in used or []:
                if name not in available:
                    singular = kind[:-1] if kind != "entities" else "entity"
                    problem(
                        [*where, "when", kind],
                        f"unknown {singular} {name!r}: not in the domain",
                    )
    return problems


def load_routing(path: Path, domain: DomainNames | None = None) -> RoutingFile:
    """Reads and validates ``path``.

    Raises:
        ConfigurationError: naming the file, the line and every problem found.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the file: {exc.strerror}", file=str(path)) from exc
    parser = YAML(typ="rt")
    parser.Constructor = _PlainRoundTrip
    try:
        document = parser.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigurationError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
            file=str(path),
            line=mark.line + 1 if mark is not None else None,
        ) from exc
    routing, problems = validate_routing(document, domain)
    if problems or routing is None:
        first = problems[0] if problems else RoutingProblem(None, "", "invalid")
        raise ConfigurationError(
            "; ".join(str(each) for each in problems),
            file=str(path),
            line=first.line,
        )
    return routing


def domain_names(path: Path) -> DomainNames:
    """The intents, entities and slots of a ``domain.yml`` (plain YAML; no Rasa import).

    Raises:
        ConfigurationError: the domain cannot be read.
    """
    document = load_yaml(path, {}) or {}
    if not isinstance(document, Mapping):
        raise ConfigurationError("expected a mapping at the top level", file=str(path))

    def names(section: str) -> frozenset[str]:
        items = document.get(section) or []
        if isinstance(items, Mapping):
            return frozenset(str(key) for key in items)
        return frozenset(
            str(next(iter(item))) if isinstance(item, Mapping) else str(item) for item in items
        )

    builtin = frozenset({"nlu_fallback"})
    return DomainNames(
        intents=names("intents") | builtin, entities=names("entities"), slots=names("slots")
    )
