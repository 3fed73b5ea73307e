from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import ConfigurationError
from bot.routing import Router, RoutingContext, load_routing
from bot.routing.engine import mismatch
from bot.routing.loader import domain_names
from bot.routing.model import Route, RoutingFile, RoutingRule, RuleConditions, Skill

ROOT = Path(__file__).resolve().parents[3]
PAGE = "100200300400500"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_routing(ROOT / "routing.yml", domain_names(ROOT / "domain.yml")))


@pytest.mark.parametrize(
    ("context", "skill", "rule"),
    [
        (
            RoutingContext("facebook", PAGE, "public", "facebook_comment", "complaint", 0.9),
            "care_public",
            "Public complaints need a human who may answer in public",
        ),
        (
            RoutingContext("facebook", PAGE, "public", "facebook_comment", "complaint", 0.4),
            "care_private",
            "Complaints in private",
        ),
        (
            RoutingContext(
                "twitter",
                "1",
                "private",
                "twitter_dm",
                "order_status",
                0.9,
                entities=frozenset({"order_number"}),
            ),
            "deliveries",
            "Delivery problems with an order number go to the deliveries team",
        ),
        (
            RoutingContext(
                "facebook", PAGE, "private", "messenger", "greet", referral="winter-sale-24"
            ),
            "care_private",
            "Campaign traffic from the winter sale m.me links",
        ),
        (
            RoutingContext("twitter", "1", "private", "twitter_dm", "request_human"),
            "care_private",
            None,
        ),
    ],
)
def test_the_first_matching_rule_wins(
    router: Router, context: RoutingContext, skill: str, rule: str | None
) -> None:
    decision = router.decide(context)

    assert (decision.skill, decision.rule) == (skill, rule)


def test_explain_says_why_each_rule_did_not_match(router: Router) -> None:
    decision, lines = router.explain(
        RoutingContext("facebook", PAGE, "public", "facebook_comment", "complaint", 0.4)
    )

    assert lines[0].endswith("no (confidence does not match)")
    assert lines[-1] == "rule 4 'Complaints in private': MATCH -> care_private"
    assert decision.priority == 2


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.yml"
    path.write_text(text)
    return path


GOOD_SKILL = "skills:\n  - name: care\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD_SKILL + "default: {skill: sales}\n",
            "line 3: default.skill: unknown skill 'sales': expected one of care",
        ),
        (
            GOOD_SKILL + "rules:\n  - name: r\n    when: {intents: [refund]}\n"
            "    then: {skill: care}\ndefault: {skill: care}\n",
            "line 5: rules[0].when.intents: unknown intent 'refund': not in the domain",
        ),
        (
            "skills:\n  - name: care\n    time_zone: Mars/Olympus\ndefault: {skill: care}\n",
            "line 3: skills[0].time_zone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "skills:\n  - name: care\n    hours: {mon-fri: '20:00-08:00'}\n"
            "default: {skill: care}\n",
            "line 3: skills[0].hours: mon-fri: expected opening hours like 08:00-20:00",
        ),
        (
            "skills:\n  - name: care\n    hours: {monday: '08:00-20:00'}\ndefault: {skill: care}\n",
            "unknown day 'monday'",
        ),
        (
            GOOD_SKILL + "rules:\n  - name: r\n    when: {channel: facebook}\n"
            "    then: {skill: care}\ndefault: {skill: care}\n",
            "line 5: rules[0].when.channel: extra fields not permitted",
        ),
        (
            GOOD_SKILL + "    when_closed: {skill: care, bot: true}\ndefault: {skill: care}\n",
            "expected exactly one of skill, message or bot: true",
        ),
        (GOOD_SKILL, "default: field required"),
        ("skills: [oops\n", "invalid YAML"),
    ],
)
def test_problems_name_the_line_and_what_was_expected(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigurationError) as raised:
        load_routing(path, domain_names(ROOT / "domain.yml"))

    assert str(path) in str(raised.value)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (datetime(2026, 11, 23, 7, 59, tzinfo=timezone.utc), False),  # Monday 07:59 London
        (datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc), True),
        (datetime(2026, 11, 28, 8, 30, tzinfo=timezone.utc), False),  # Saturday, opens 9:00
        (datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc), True),
        (datetime(2026, 7, 6, 7, 30, tzinfo=timezone.utc), True),  # summer time: 08:30 local
        (datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc), False),
    ],
)
def test_business_hours_are_read_in_the_skills_time_zone(
    router: Router, moment: datetime, open_: bool
) -> None:
    assert router.skills["care_private"].is_open(moment) is open_


def test_a_skill_open_around_the_clock() -> None:
    skill = Skill(name="always", hours={"mon-sun": "00:00-24:00"})

    assert skill.is_open(datetime(2026, 1, 4, 23, 59, 59, tzinfo=timezone.utc))


ACCOUNTS = ["a1", "a2", "a3"]
rules_strategy = st.lists(
    st.builds(
        lambda accounts, intent, visibility: RoutingRule(
            name="r",
            when=RuleConditions(accounts=accounts, intents=intent, visibility=visibility),
            then=Route(skill="s"),
        ),
        st.none() | st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=2),
        st.none() | st.lists(st.sampled_from(["greet", "complaint"]), min_size=1, max_size=1),
        st.none() | st.sampled_from(["public", "private"]),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    rules=rules_strategy,
    account=st.sampled_from([*ACCOUNTS, "other"]),
    intent=st.sampled_from(["greet", "complaint"]),
    visibility=st.sampled_from(["public", "private"]),
)
def test_the_account_index_decides_exactly_like_a_full_scan(
    rules: list[RoutingRule], account: str, intent: str, visibility: str
) -> None:
    routing = RoutingFile(skills=[Skill(name="s")], rules=rules, default=Route(skill="s"))
    context = RoutingContext("facebook", account, visibility, "messenger", intent, 1.0)

    scanned = next(
        (index for index, rule in enumerate(rules) if mismatch(rule.when, context) is None), None
    )

    assert Router(routing).decide(context).rule_index == scanned
