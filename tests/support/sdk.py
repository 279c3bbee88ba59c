"""Vapi's official Python SDK as our tests use it: its answers checked strictly.

The SDK builds its models without checking them, so tests validate every raw answer
strictly against the same models (after the SDK's own camelCase-to-field mapping).
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from vapi.core.serialization import convert_and_respect_annotation_metadata

SdkModel = TypeVar("SdkModel", bound=BaseModel)


def strictly(model: type[SdkModel], raw: Any) -> SdkModel:
    fields = convert_and_respect_annotation_metadata(
        object_=raw, annotation=model, direction="read"
    )
    return model.model_validate(fields)
