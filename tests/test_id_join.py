"""The on-disk hash join of ids (:class:`claimwire.corpus.id_join.MissingIds`)."""

from __future__ import annotations

import pytest

from claimwire.corpus import id_join
from claimwire.corpus.id_join import MissingIds


@pytest.mark.parametrize("bucket_ids", [id_join.BUCKET_IDS, 7])
def test_the_numbers_of_the_ids_not_present(
    monkeypatch: pytest.MonkeyPatch, bucket_ids: int
) -> None:
    """Buckets of 7 ids: 302 present and 405 asked make 58 buckets a side, some empty on
    one side; an id asked twice, Unicode and lone surrogates, numbers out of order."""
    monkeypatch.setattr(id_join, "BUCKET_IDS", bucket_ids)
    present = [f"a{i}" for i in range(0, 600, 2)] + ["é", "\ud800"]
    asked = [(n, f"a{n}") for n in range(399, -1, -1)] + [(401, "é"), (402, "e\u0301")]
    asked += [(403, "\ud800"), (404, "a0"), (405, "a1")]
    join = MissingIds()
    join.have(present[:100])
    join.have(present[100:])
    join.ask(asked[:50])
    join.ask(asked[50:])
    lacking = {number for number, ann_id in asked if ann_id not in present}
    assert list(join.missing()) == sorted(lacking)
    assert 402 in lacking and 405 in lacking and 404 not in lacking


def test_nothing_present_or_nothing_asked() -> None:
    join = MissingIds()
    join.ask([(3, "x"), (0, "y")])
    assert list(join.missing()) == [0, 3]
    join = MissingIds()
    join.have(["x"])
    assert list(join.missing()) == []
