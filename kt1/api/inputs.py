"""The API's general guard on JSON bodies: every input schema refuses control characters.

Every schema of :mod:`kt1.api.schemas` derives from :class:`Schema`, so a NUL (which
PostgreSQL refuses in text) or a lone surrogate in any string field, at any depth, is refused
with ``invalid_field`` naming the field (``operator``, ``receipt.username``, ``numbers.2``)
before a view or a query sees it, instead of ending as a 500. A batch's items (free-form
dictionaries) are checked one by one when each is loaded, so one bad item refuses only itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from marshmallow import fields

from kt1.services.text import refuse_forbidden_characters


class Schema(ma.Schema):
    """Base of the API's schemas: refuses forbidden characters in every string it loads."""

    @ma.pre_load
    def _refuse_control_characters(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            _check_object(self, data, "")
        return data


def _check_object(schema: ma.Schema, data: Mapping[Any, Any], prefix: str) -> None:
    by_key = {field.data_key or name: field for name, field in schema.load_fields.items()}
    for key, value in data.items():
        field = by_key.get(key)
        if field is not None:  # an unknown key is refused by marshmallow itself
            _check_value(field, value, f"{prefix}{key}")


def _check_value(field: fields.Field[Any], value: Any, path: str) -> None:
    if isinstance(value, str):
        refuse_forbidden_characters(value, path)
    elif isinstance(field, fields.Nested) and isinstance(field.schema, ma.Schema):
        if isinstance(value, Mapping):
            _check_object(field.schema, value, f"{path}.")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Mapping):
                    _check_object(field.schema, item, f"{path}.{index}.")
    elif isinstance(field, fields.List) and isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(field.inner, item, f"{path}.{index}")
    # fields.Dict holds free-form values: a batch checks each item when it loads it
