"""Imports every model module the features declare, so the metadata is complete for Alembic and the mappers
resolve."""

from importlib import import_module

from engpass import features

for module in features.model_modules():
    import_module(module)
