"""Rows to an Arrow table with a ``datasets`` schema, column by column.

What ``Dataset.from_list(rows, features).data.table`` gives, without encoding every value
through ``datasets`` in Python: only the values of a ``ClassLabel`` (alone or inside lists and
dicts) change, from names to their numbers; each column is then made by pyarrow and cast to
its feature as ``datasets`` casts it (same arrays, buffers and sizes)::

    table, ordered = arrow_table(rows, features)  # pyarrow.Table, its datasets.Features
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
from datasets import ClassLabel, Features, LargeList, List
from datasets.table import cast_array_to_feature

Encode = Callable[[Any], Any]


def _label_number(feature: ClassLabel) -> Encode:
    numbers = {name: number for number, name in enumerate(feature.names)}

    def encode(value: Any) -> Any:
        if isinstance(value, str):
            found = numbers.get(value)
            return feature.str2int(value) if found is None else found  # raises on a stranger
        return value

    return encode


def _encoder(feature: Any) -> Encode | None:
    """How a value of ``feature`` is encoded, or None when it goes as it is."""
    if isinstance(feature, ClassLabel):
        return _label_number(feature)
    if isinstance(feature, List | LargeList):
        inner = _encoder(feature.feature)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(item) for item in value]
    if isinstance(feature, dict):
        fields = {name: _encoder(child) for name, child in feature.items()}
        if all(encode is None for encode in fields.values()):
            return None
        return lambda value: (
            None
            if value is None
            else {
                name: value.get(name) if encode is None else encode(value.get(name))
                for name, encode in fields.items()
            }
        )
    return None


def arrow_table(rows: Sequence[dict[str, Any]], features: Features) -> tuple[pa.Table, Features]:
    """The rows as one Arrow table, and its features: ``features`` in the order of the first
    row's fields, as ``Dataset.from_list`` orders them (a field missing from a row is null)."""
    ordered = Features({name: features[name] for name in rows[0]}) if rows else features
    columns = []
    for name, feature in ordered.items():
        values = [row.get(name) for row in rows]
        encode = _encoder(feature)
        if encode is not None:
            values = [encode(value) for value in values]
        # as datasets does: pyarrow infers, then the column is cast to its feature
        columns.append(
            cast_array_to_feature(
                pa.array(values), feature, allow_primitive_to_str=True, allow_decimal_to_str=True
            )
        )
    return pa.Table.from_arrays(columns, schema=ordered.arrow_schema), ordered
