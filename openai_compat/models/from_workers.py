"""Catalogue entries and aliases -> OpenAI `Model` objects. Pure functions: no I/O."""

from __future__ import annotations

from collections.abc import Mapping

from openai_compat.core.catalogue import CatalogueEntry
from openai_compat.models.protocol import Model


def catalogue_model(entry: CatalogueEntry) -> Model:
    """The task helps users pick the right endpoint for a model."""
    return Model(id=entry.name, created=entry.created, owned_by=entry.author, task=entry.task)


def alias_model(alias: str, target: str, catalogue: Mapping[str, CatalogueEntry] | None) -> Model:
    backing = (catalogue or {}).get(target)
    return Model(id=alias, created=backing.created if backing else 0, owned_by="openai-compat",
                 workers_ai_model=target)


def model_list(aliases: Mapping[str, str], catalogue: Mapping[str, CatalogueEntry] | None) -> list[Model]:
    """Aliases first (they are what OpenAI clients ask for), then the catalogue; aliases are listed
    even when the catalogue cannot be read."""
    models = [alias_model(a, t, catalogue) for a, t in aliases.items()]
    models.extend(catalogue_model(e) for e in (catalogue or {}).values() if e.name not in aliases)
    return models


def find_model(
    model_id: str, aliases: Mapping[str, str], catalogue: Mapping[str, CatalogueEntry] | None
) -> Model | None:
    if model_id in aliases:
        return alias_model(model_id, aliases[model_id], catalogue)
    entry = (catalogue or {}).get(model_id)
    return catalogue_model(entry) if entry is not None else None
