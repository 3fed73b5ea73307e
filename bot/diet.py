"""``BatchingDIETClassifier``: Rasa's DIET, predicting several messages in one run of its model.

Rasa's ``DIETClassifier`` runs its TensorFlow model once per message even when the NLU pipeline
is given several: a run costs about as much for one message as for sixteen. This subclass, in
``config.yml`` instead of ``DIETClassifier`` (the same model, trained and persisted the same
way), predicts all the messages it is given in one run, with the same results up to float
rounding. The inbox worker gives it several messages under load (``bot.nlu.BatchParser``);
Rasa's own channels give it one at a time, which goes through ``DIETClassifier`` unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import (
    ENTITY_RECOGNITION,
    FEATURIZERS,
    INTENT_CLASSIFICATION,
)

__all__ = ["BatchingDIETClassifier"]

# The outputs of DIET that hold one value per token (padded to the longest message of a batch).
_PER_TOKEN_PREFIX = "e_"  # noqa: S105 - an output name, not a secret


def _one_of(outputs: dict[str, Any], index: int, tokens: int) -> dict[str, Any]:
    """The outputs of message ``index`` of a batch, as DIET's model gives them for it alone."""
    one: dict[str, Any] = {}
    for key, value in outputs.items():
        if not isinstance(value, np.ndarray):
            continue
        row = value[index : index + 1]
        if key.startswith(_PER_TOKEN_PREFIX) and row.ndim >= 2:
            # A message alone has a value per token and one for the sentence: the rest is the
            # batch's padding.
            row = row[:, : tokens + 1]
        one[key] = row
    return one


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class BatchingDIETClassifier(DIETClassifier):
    """Rasa's ``DIETClassifier``, predicting the messages it is given in one run of its model.

    Trained, persisted and configured exactly as ``DIETClassifier``. Alone, or with diagnostic
    data asked for, a message goes through ``DIETClassifier.process`` unchanged.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        """Augments the messages with intents and entities, predicted together."""
        featurizers = self.component_config.get(FEATURIZERS)
        batch = [
            message
            for message in messages
            if message.features_present(attribute=TEXT, featurizers=featurizers)
        ]
        if (
            len(batch) < 2
            or self.model is None
            or self._execution_context.should_add_diagnostic_data
        ):
            return self._one_by_one(messages)
        model_data = self._create_model_data(batch, training=False)
        if model_data.number_of_examples() != len(batch):
            return self._one_by_one(messages)
        outputs = self.model.run_inference(model_data, batch_size=len(batch))
        for index, message in enumerate(batch):
            tokens = len(message.get(TOKENS_NAMES[TEXT], []))
            self._augment(message, _one_of(outputs, index, tokens))
        alone = [m for m in messages if not any(m is b for b in batch)]
        if alone:
            self._one_by_one(alone)
        return messages

    def _one_by_one(self, messages: list[Message]) -> list[Message]:
        processed: list[Message] = super().process(messages)
        return processed

    def _augment(self, message: Message, out: dict[str, Any]) -> None:
        """What ``DIETClassifier.process`` sets on a message from its model's outputs."""
        if self.component_config[INTENT_CLASSIFICATION]:
            label, label_ranking = self._predict_label(out)
            message.set(INTENT, label, add_to_output=True)
            message.set("intent_ranking", label_ranking, add_to_output=True)
        if self.component_config[ENTITY_RECOGNITION]:
            message.set(ENTITIES, self._predict_entities(out, message), add_to_output=True)
