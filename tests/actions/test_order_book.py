from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from actions.order_book import OrderState, YamlOrderBook, normalise_order_number
from bot.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("BC-104233", "BC-104233"),
        ("bc-104233", "BC-104233"),
        ("BC 104233", "BC-104233"),
        ("bc104233", "BC-104233"),
        ("#104233", "BC-104233"),
        ("104233", "BC-104233"),
        ("  104233 ", "BC-104233"),
        ("10423", None),
        ("1042334", None),
        ("BC-10423X", None),
        ("AB-104233", None),
        ("", None),
    ],
)
def test_normalise_order_number(typed: str, expected: str | None) -> None:
    assert normalise_order_number(typed) == expected


def test_the_demo_order_book_loads_and_finds_orders() -> None:
    book = YamlOrderBook(ROOT / "orders.yml")

    order = book.find("BC-104233")

    assert order is not None
    assert order.status is OrderState.SHIPPED
    assert order.carrier == "DPD"
    assert order.date == date(2026, 11, 27)
    assert book.find("BC-000000") is None


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "orders.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("orders: []\n", "orders: expected a mapping of order numbers to orders"),
        (
            "orders:\n  BC-1:\n    status: shipped\n",
            "orders.BC-1: expected an order number like BC-123456",
        ),
        (
            "orders:\n  BC-100000:\n    status: lost\n    items: [Hat]\n    date: 2026-01-01\n",
            "status: value is not a valid enumeration member",
        ),
        (
            "orders:\n  BC-100000:\n    status: shipped\n    items: [Hat]\n    date: 2026-01-01\n",
            "a shipped order needs a carrier and a tracking number",
        ),
        (
            "orders:\n  BC-100000:\n    status: delivered\n    items: []\n    date: 2026-01-01\n",
            "items: ensure this value has at least 1 items",
        ),
    ],
)
def test_a_broken_order_book_names_the_file_the_order_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigurationError) as raised:
        YamlOrderBook(path)

    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_an_invalid_order_names_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "orders:\n  BC-100000:\n    status: delivered\n    items: [Hat]\n    date: 2026-01-01\n"
        "  BC-100001:\n    status: nonsense\n    items: [Hat]\n    date: 2026-01-01\n",
    )

    with pytest.raises(ConfigurationError) as raised:
        YamlOrderBook(path)

    assert raised.value.line == 6


def test_a_missing_order_book_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the file"):
        YamlOrderBook(tmp_path / "absent.yml")
