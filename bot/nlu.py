"""Messages of several conversations understood in one pass of Rasa's NLU pipeline.

Under load the inbox worker has several messages of different conversations waiting at once; it
parses them together (``BatchParser``), and the pipeline's ``bot.diet.BatchingDIETClassifier``
predicts them in one run of its model. Each message's result is what Rasa's
``MessageProcessor.parse_message`` gives for it alone; a message alone is left to Rasa.

Measured on the project's model (2 cores, ``tests/e2e/test_nlu_batch.py`` checks the results),
CPU per message: 6.4 ms alone, 3.7 ms in a batch of 4, 2.4 ms in a batch of 16 (in a slower
hour of the same machine: 9.9, 4.1, 3.3 for 8, and 2.5 ms).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rasa.engine.constants import PLACEHOLDER_MESSAGE
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

__all__ = ["BatchParser"]

logger = logging.getLogger(__name__)


def _can_batch(processor: Any) -> bool:
    """Whether the processor's NLU reads nothing but the message (no conversation, no server)."""
    if getattr(processor, "http_interpreter", None) is not None:
        return False
    metadata = processor.model_metadata
    schema = metadata.predict_schema.minimal_graph_schema([metadata.nlu_target])
    needs = {need for node in schema.nodes.values() for need in node.needs.values()}
    return {need for need in needs if need.startswith("__")} <= {PLACEHOLDER_MESSAGE}


class BatchParser:
    """Parses several messages in one run of the NLU part of a Rasa agent's graph.

    The result of each is what ``MessageProcessor.parse_message`` gives for it alone. Returns
    None (parse them one by one, as Rasa does) when the agent has no model, parses through an
    NLU server (``endpoints.yml: nlu``), or when its NLU pipeline reads the conversation.

    Args:
        agent: Rasa's agent (``app.ctx.agent``); its current processor is used at each call,
            so a model replaced through Rasa's HTTP API is used from then on.
    """

    def __init__(self, agent: Any) -> None:
        self._agent = agent
        self._checked: tuple[Any, bool] | None = None  # (processor, whether it can batch)

    def _batchable_processor(self) -> Any:
        processor = getattr(self._agent, "processor", None)
        if processor is None:
            return None
        if self._checked is None or self._checked[0] is not processor:
            self._checked = (processor, _can_batch(processor))
        return processor if self._checked[1] else None

    def parse(self, messages: Sequence[Any]) -> list[dict[str, Any]] | None:
        """The parse data of each of ``messages`` (Rasa ``UserMessage``s), in order."""
        processor = self._batchable_processor()
        if processor is None or not messages:
            return None
        target = processor.model_metadata.nlu_target
        results = processor.graph_runner.run(
            inputs={PLACEHOLDER_MESSAGE: list(messages)}, targets=[target]
        )
        parsed_messages: list[Message] = results[target]
        if len(parsed_messages) != len(messages):
            logger.warning(
                "the NLU pipeline returned %d of %d messages", len(parsed_messages), len(messages)
            )
            return None
        parsed = []
        for message in parsed_messages:
            parse_data: dict[str, Any] = {
                TEXT: "",
                INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
                ENTITIES: [],
            }
            parse_data.update(message.as_dict(only_output_properties=True))
            # What ``parse_message`` does after the graph, for each message.
            processor._update_full_retrieval_intent(parse_data)
            processor._check_for_unseen_features(parse_data)
            parsed.append(parse_data)
        return parsed
