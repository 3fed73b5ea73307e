"""Helpers for testing Rasa policies with real Rasa objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain

P = TypeVar("P", bound=Policy)


def create_policy(policy: type[P], tmp_path: Path, **config: Any) -> P:
    """``policy`` with its default options overridden by ``config``, stored under ``tmp_path``."""
    created: P = policy.create(
        {**policy.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource(policy.__name__),
        ExecutionContext(GraphSchema({}), "test"),
    )
    return created


def predicted(domain: Domain, prediction: PolicyPrediction) -> str | None:
    """The action a prediction forces, or None when it predicts nothing."""
    if prediction.max_confidence == 0:
        return None
    return str(domain.action_names_or_texts[prediction.max_confidence_index])
