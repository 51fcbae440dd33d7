"""A choice's values are refused with spaces around them or given twice: ``fr`` and `` fr``
would be two values a reader takes for one."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwire.annotation.schema import load_schema
from claimwire.errors import ClaimwireError

from .test_schema import _broken


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            "[direct, ' direct', mixed]",
            "expected a value without leading or trailing spaces, got ' direct'",
        ),
        ("[direct, 'indirect ', mixed]", "without leading or trailing spaces, got 'indirect '"),
        ("[direct, indirect, direct]", "the value 'direct' is given twice"),
        ("[direct, ' ', mixed]", "without leading or trailing spaces, got ' '"),
    ],
)
def test_a_choice_value_with_spaces_or_twice_is_a_located_error(
    tmp_path: Path, values: str, message: str
) -> None:
    path = _broken(tmp_path, "values: [direct, indirect, mixed]", f"values: {values}")
    with pytest.raises(ClaimwireError) as caught:
        load_schema(path)
    assert message in caught.value.message
    assert caught.value.file == str(path) and caught.value.line is not None
    assert caught.value.field is not None and caught.value.field.endswith(".values")


def test_a_release_s_own_schema_is_read_as_it_was_built(tmp_path: Path) -> None:
    path = _broken(tmp_path, "values: [direct, indirect, mixed]", "values: [direct, ' direct']")
    assert load_schema(path, strict=False)  # a release's schema is read as it is
