"""Messages understood together (``bot.nlu``, ``bot.diet``) are understood as Rasa understands
each alone: on the project's trained model, and on a small model that extracts entities."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent, load_agent
from rasa.core.channels.channel import UserMessage

from bot.diet import BatchingDIETClassifier
from bot.nlu import BatchParser

TEXTS = [
    "what are your opening hours?",
    "where is my order 12345?",
    "hi",
    "I want to talk to a human please",
    "my parcel never arrived and I am really upset about it, this is the third time",
    "/greet",
    '/order_status{"order_number": "44556"}',
    "thanks",
    "ok",
    "🙂",
    "asdf qwerty zxcv",
    "Is the shop open on Sunday? And where is order 98765",
]

TINY_NLU = """version: "3.1"
nlu:
- intent: order_status
  examples: |
    - where is my order [12345](order_number)
    - status of order [98765](order_number) please
    - track [55555](order_number)
    - my order [11111](order_number) has not arrived
    - what about order [22222](order_number)
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey
- intent: store_hours
  examples: |
    - what are your opening hours
    - when are you open
    - are you open on sunday
    - opening times
"""
TINY_CONFIG = """recipe: default.v1
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 3
  - name: bot.diet.BatchingDIETClassifier
    epochs: 30
    number_of_transformer_layers: 1
    transformer_size: 32
    embedding_dimension: 16
    hidden_layers_sizes: {text: [32]}
policies: []
"""
TINY_TEXTS = [
    "where is my order 12345",
    "hi",
    "track order 777 and 888 please",
    "what are your opening hours",
    "order 4444",
    "my order 99999 has not arrived yet and I am still waiting for it",
]


def _load(model: Path) -> Agent:
    logging.getLogger("rasa").setLevel(logging.WARNING)
    return asyncio.run(load_agent(model_path=str(model)))


class RunCounter:
    """Counts the runs of the BatchingDIETClassifier's model in an agent."""

    def __init__(self, agent: Agent) -> None:
        nodes = agent.processor.graph_runner._instantiated_nodes.values()
        [diet] = [n._component for n in nodes if isinstance(n._component, BatchingDIETClassifier)]
        self.runs = 0
        run_inference = diet.model.run_inference

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.runs += 1
            return run_inference(*args, **kwargs)

        diet.model.run_inference = counted


@pytest.fixture(scope="module")
def project_agent(model: Path) -> Agent:
    """The project's trained model, loaded in this process."""
    return _load(model)


@pytest.fixture(scope="module")
def entity_agent(tmp_path_factory: pytest.TempPathFactory) -> Agent:
    """A small model whose BatchingDIETClassifier extracts entities (trained here, ~30 s)."""
    from rasa.model_training import train_nlu

    folder = tmp_path_factory.mktemp("tiny_nlu")
    (folder / "nlu.yml").write_text(TINY_NLU)
    (folder / "config.yml").write_text(TINY_CONFIG)
    model = train_nlu(
        str(folder / "config.yml"),
        str(folder / "nlu.yml"),
        str(folder / "models"),
        fixed_model_name="tiny",
    )
    assert model is not None
    return _load(Path(model))


def _alone(agent: Agent, texts: list[str]) -> list[dict[str, Any]]:
    return [asyncio.run(agent.processor.parse_message(UserMessage(text))) for text in texts]


def _assert_same(alone: dict[str, Any], together: dict[str, Any]) -> None:
    assert together["text"] == alone["text"]
    assert together["intent"]["name"] == alone["intent"]["name"]
    assert together["intent"]["confidence"] == pytest.approx(
        alone["intent"]["confidence"], abs=1e-5
    )
    ranking = [
        (item["name"], pytest.approx(item["confidence"], abs=1e-5))
        for item in alone.get("intent_ranking", [])
    ]
    assert [
        (item["name"], item["confidence"]) for item in together.get("intent_ranking", [])
    ] == ranking
    entities = [
        {
            **entity,
            **(
                {"confidence_entity": pytest.approx(entity["confidence_entity"], abs=1e-5)}
                if "confidence_entity" in entity
                else {}
            ),
        }
        for entity in alone["entities"]
    ]
    assert together["entities"] == entities
    assert set(together) == set(alone)


def test_the_project_model_understands_a_batch_as_each_message_alone(project_agent: Agent) -> None:
    alone = _alone(project_agent, TEXTS)
    counter = RunCounter(project_agent)

    together = BatchParser(project_agent).parse([UserMessage(text) for text in TEXTS])

    assert together is not None
    assert counter.runs == 1  # the whole batch in one run of DIET's model
    for one, batched in zip(alone, together, strict=True):
        _assert_same(one, batched)
    assert {one["intent"]["name"] for one in alone} >= {"store_hours", "order_status", "greet"}


def test_entities_of_a_batch_are_those_of_each_message_alone(entity_agent: Agent) -> None:
    alone = _alone(entity_agent, TINY_TEXTS)
    counter = RunCounter(entity_agent)

    together = BatchParser(entity_agent).parse([UserMessage(text) for text in TINY_TEXTS])

    assert together is not None
    assert counter.runs == 1
    assert sum(len(one["entities"]) for one in alone) >= 4  # the small model does find them
    for one, batched in zip(alone, together, strict=True):
        _assert_same(one, batched)


def test_a_batch_of_one_is_understood_too(project_agent: Agent) -> None:
    counter = RunCounter(project_agent)

    [parsed] = BatchParser(project_agent).parse([UserMessage("hi")]) or [None]

    assert parsed is not None
    assert parsed["intent"]["name"] == "greet"
    assert counter.runs == 1
