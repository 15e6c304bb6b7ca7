"""The fluent registry API: `heron.register_model(model_uri, name)`."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from heron.client.fluent.state import tracking_client
from heron.entities.registry import ModelVersion
from heron.errors import AlreadyExists


def register_model(
    model_uri: str, name: str, tags: Mapping[str, Any] | None = None
) -> ModelVersion:
    """Registers the model at `model_uri` as the next version of `name`, creating the
    registered model when it does not exist yet.

    Args:
        model_uri: `runs:/<run_id>/<path>`, `models:/<model_id>`, `models:/<name>/<version>`,
            or an artifact URI inside the server's artifact roots.
        name: the registered model (plain, or `catalog.schema.model`).
        tags: tags of the new version.

    Returns:
        The new version, READY at once.

    Example:
        >>> version = heron.register_model(f"runs:/{run_id}/model", "fraud-detector")
        >>> heron.HeronClient().set_registered_model_alias("fraud-detector", "champion",
        ...                                                 version.version)
    """
    client = tracking_client()
    with contextlib.suppress(AlreadyExists):  # an existing model just gets a new version
        client.create_registered_model(name)
    return client.create_model_version(name, model_uri, tags=tags)
