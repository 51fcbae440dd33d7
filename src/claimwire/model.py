"""The shared data model: documents, annotations and relations.

Offsets are Python ``str`` indices (code points) into the document's NFC text, half-open
``[start, end)``. Gold, an annotator's work and a system's output are all *annotation sets*:
lists of :class:`Annotation` and :class:`Relation` records.
"""

from __future__ import annotations

import gc
import inspect
import json
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import compress, repeat
from operator import attrgetter, is_, is_not
from pathlib import Path
from typing import Annotated, Any, TextIO, TypeVar, cast

import msgspec

from claimwire import strict_json
from claimwire.errors import ClaimwireError, RecordError
from claimwire.files import atomic_writer
from claimwire.lines import (
    DOCUMENT_LINE,
    NEWLINE,
    RECORD_LINE,
    UTF16,
    LineLimit,
    LineSpan,
    blocks,
    is_gzip,
    is_zstd,
    line_blocks,
    line_columns,
    lines_in,
    looks_utf16,
    numbered_lines,
)
from claimwire.names import author_problem
from claimwire.record_keys import check_keys, warn_unknown

Span = tuple[int, int]
QUOTE_CONTEXT = 32
"""How many characters of prefix and suffix a quote keeps for re-anchoring."""


def _require(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in record:
        raise RecordError("missing; every record needs it", field=name)
    value = record[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        expected = (
            kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        )
        raise RecordError(f"expected {expected}, got {type(value).__name__}", field=name)
    return value


def _optional(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if record.get(name) is None:
        return None
    return _require(record, name, kind)


def _spans(record: Mapping[str, Any], name: str) -> tuple[Span, ...]:
    raw = _require(record, name, list)
    spans = []
    for i, pair in enumerate(raw):
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
        ):
            raise RecordError(f"item {i}: expected a [start, end] pair of integers", field=name)
        spans.append((pair[0], pair[1]))
    return tuple(spans)


Author = Annotated[str, msgspec.Meta(min_length=1)]
"""Who made a record: the typed decoder refuses an empty one, which ``from_dict`` reads as
``gold``. A name :func:`claimwire.names.author_problem` refuses (over 120 characters, a
control or format character) sends its block to ``from_dict``, which names the line."""


def _author(record: Mapping[str, Any]) -> str:
    """A record's ``author``: ``gold`` when null, absent or empty; an error naming the field
    when it is not a name ``convert --author`` would take."""
    author: str = _optional(record, "author", str) or "gold"
    if (problem := author_problem(author)) is not None:
        raise RecordError(problem, field="author")
    return author


class _RecordClass(msgspec.StructMeta):
    """The record classes' metaclass: a call may leave out the fields whose ``__init__`` (in
    the class body, for readers and type checkers) gives a default, and ``None`` for a
    mapping stands for an empty one. The typed decoder makes records without calling the
    class, so it requires every field: a decoded record says which keys its line named (see
    :func:`_decode_fast`); a line that leaves a field out is decoded by the twin class of
    :data:`_OMITTING` and proved clean on its own terms."""

    defaults: dict[str, Any]
    """The default of each field that has one."""
    mappings: list[int]
    """The places of the mapping fields whose default ``None`` stands for an empty one."""

    def __new__(
        cls, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **options: Any
    ) -> _RecordClass:
        init = namespace.pop("__init__", None)  # msgspec refuses one
        made = super().__new__(cls, name, bases, namespace, **options)
        if init is None:  # a subclass takes its parent's defaults
            made.defaults = getattr(made, "defaults", {})
            made.mappings = getattr(made, "mappings", [])
            return made
        parameters = list(inspect.signature(init).parameters.values())[1:]
        made.defaults = {p.name: p.default for p in parameters if p.default is not p.empty}
        made.mappings = [
            i
            for i, p in enumerate(parameters)
            if p.default is None and str(p.annotation).startswith("Mapping")
        ]
        return made

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        fields: tuple[str, ...] = cls.__struct_fields__
        if kwargs or len(args) < len(fields):
            given = list(args)
            for name in fields[len(args) :]:
                if name in kwargs:
                    given.append(kwargs.pop(name))
                elif name in cls.defaults:
                    given.append(cls.defaults[name])
                else:
                    raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
            if kwargs:
                raise TypeError(f"{cls.__name__}() got an unexpected argument: {min(kwargs)!r}")
            args = tuple(given)
        for i in cls.mappings:
            if args[i] is None:
                args = (*args[:i], {}, *args[i + 1 :])
        return super().__call__(*args)


class _Record(msgspec.Struct, frozen=True, gc=False, metaclass=_RecordClass):
    """Base of the record classes: immutable, compared and hashed by their fields, and not
    tracked by the garbage collector (``gc=False``). That is sound because a record cannot
    be part of a reference cycle: its fields hold strings, numbers, other records and JSON
    values (dicts and lists decoded from a line, which cannot refer back to a record), and
    no code puts a record inside the mapping of its own attributes; a collector pass over
    hundreds of thousands of new records would only be wasted work."""


class Quote(_Record, frozen=True, gc=False):
    """W3C TextQuoteSelector: the exact text with a little context on each side."""

    exact: str
    prefix: str
    suffix: str

    def __init__(self, exact: str, prefix: str = "", suffix: str = "") -> None: ...

    @classmethod
    def from_text(cls, text: str, start: int, end: int, context: int = QUOTE_CONTEXT) -> Quote:
        return cls(
            text[start:end], text[max(0, start - context) : start], text[end : end + context]
        )

    def to_dict(self) -> dict[str, str]:
        return {"exact": self.exact, "prefix": self.prefix, "suffix": self.suffix}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Quote:
        try:
            return cls(
                _require(record, "exact", str),
                _optional(record, "prefix", str) or "",
                _optional(record, "suffix", str) or "",
            )
        except RecordError as error:
            error.field = f"quote.{error.field}"
            raise


class Document(_Record, frozen=True, gc=False):
    """A normalized press release with its segmentation and metadata."""

    id: str
    text: str
    lang: str | None
    split: str
    paragraphs: tuple[Span, ...]
    sentences: tuple[Span, ...]
    meta: Mapping[str, Any]

    def __init__(
        self,
        id: str,
        text: str,
        lang: str | None,
        split: str,
        paragraphs: tuple[Span, ...],
        sentences: tuple[Span, ...],
        meta: Mapping[str, Any] | None = None,
    ) -> None: ...

    def paragraph_id(self, index: int) -> str:
        """The stable id of the paragraph at 0-based ``index`` (``DOC:p1`` is the first)."""
        return f"{self.id}:p{index + 1}"

    def sentence_id(self, index: int) -> str:
        """The stable id of the sentence at 0-based ``index`` (``DOC:s1`` is the first)."""
        return f"{self.id}:s{index + 1}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lang": self.lang,
            "split": self.split,
            "meta": dict(self.meta),
            "text": self.text,
            "paragraphs": [list(span) for span in self.paragraphs],
            "sentences": [list(span) for span in self.sentences],
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Document:
        return cls(
            id=_require(record, "id", str),
            text=_require(record, "text", str),
            lang=_optional(record, "lang", str),
            split=_require(record, "split", str),
            paragraphs=_spans(record, "paragraphs"),
            sentences=_spans(record, "sentences"),
            meta=_optional(record, "meta", dict) or {},
        )


class Annotation(_Record, frozen=True, gc=False):
    """A labelled span (or, with no offsets, a document-level item such as a SURVEY)."""

    id: str
    doc_id: str
    layer: str
    label: str
    start: int | None
    end: int | None
    quote: Quote | None
    attributes: Mapping[str, Any]
    author: Author

    def __init__(
        self,
        id: str,
        doc_id: str,
        layer: str,
        label: str,
        start: int | None = None,
        end: int | None = None,
        quote: Quote | None = None,
        attributes: Mapping[str, Any] | None = None,
        author: str = "gold",
    ) -> None: ...

    @property
    def is_span(self) -> bool:
        return self.start is not None and self.end is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "layer": self.layer,
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "quote": self.quote.to_dict() if self.quote else None,
            "attributes": dict(self.attributes),
            "author": self.author,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Annotation:
        start = _optional(record, "start", int)
        end = _optional(record, "end", int)
        if (start is None) != (end is None):
            raise RecordError("start and end must both be given or both be null", field="end")
        quote = _optional(record, "quote", dict)
        return cls(
            id=_require(record, "id", str),
            doc_id=_require(record, "doc_id", str),
            layer=_require(record, "layer", str),
            label=_require(record, "label", str),
            start=start,
            end=end,
            quote=Quote.from_dict(quote) if quote is not None else None,
            attributes=_optional(record, "attributes", dict) or {},
            author=_author(record),
        )


class Relation(_Record, frozen=True, gc=False):
    """A typed, directed link between two annotations of one document."""

    id: str
    doc_id: str
    type: str
    head: str
    tail: str
    attributes: Mapping[str, Any]
    author: Author

    def __init__(
        self,
        id: str,
        doc_id: str,
        type: str,
        head: str,
        tail: str,
        attributes: Mapping[str, Any] | None = None,
        author: str = "gold",
    ) -> None: ...

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "type": self.type,
            "head": self.head,
            "tail": self.tail,
            "attributes": dict(self.attributes),
            "author": self.author,
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Relation:
        return cls(
            id=_require(record, "id", str),
            doc_id=_require(record, "doc_id", str),
            type=_require(record, "type", str),
            head=_require(record, "head", str),
            tail=_require(record, "tail", str),
            attributes=_optional(record, "attributes", dict) or {},
            author=_author(record),
        )


Record = TypeVar("Record", Document, Annotation, Relation)


AnyRecord = TypeVar("AnyRecord", bound=_Record)


def replaced(record: AnyRecord, **changes: Any) -> AnyRecord:
    """A copy of ``record`` with the fields named in ``changes`` set to their values."""
    return msgspec.structs.replace(record, **changes)


_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}
REFUSED = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)
"""What a typed decoder raises on lines it will not read: not JSON, a value of the wrong type,
or arrays and objects nested past the interpreter's recursion limit (about 1,000 deep). The
strict reader then names the line (:func:`refused_line`)."""


def _decoder(kind: type[Record]) -> msgspec.json.Decoder[Record]:
    """A typed decoder for ``kind``: msgspec checks every field's type while it parses."""
    if kind not in _DECODERS:
        _DECODERS[kind] = msgspec.json.Decoder(kind)
    return _DECODERS[kind]


_BOM = b"\xef\xbb\xbf"


def loads_object(line: str | bytes) -> dict[str, Any]:
    """One JSON object (a JSONL line): not JSON, not an object or a key named twice in any
    of its objects is a :class:`ClaimwireError` (the caller locates it)."""
    if isinstance(line, bytes) and looks_utf16(line):
        raise ClaimwireError(f"not valid JSON: {UTF16}")
    try:
        obj = strict_json.loads(line)
    except UnicodeDecodeError as error:
        raise ClaimwireError(f"not valid UTF-8: {error.reason}") from None
    except strict_json.DuplicateKeyError as error:
        raise ClaimwireError(str(error), field=error.key) from None
    except (json.JSONDecodeError, strict_json.NotStandardJSONError) as error:
        raise ClaimwireError(f"not valid JSON: {error}") from None
    except strict_json.TooDeepError as error:
        raise ClaimwireError(str(error)) from None
    if not isinstance(obj, dict):
        raise ClaimwireError(f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _json_object(path: Path, lineno: int, line: bytes) -> dict[str, Any]:
    try:
        return loads_object(line)
    except ClaimwireError as error:
        raise error.located(file=path, line=lineno) from None


def _record_object(path: Path, lineno: int, line: bytes) -> dict[str, Any]:
    """:func:`_json_object` for a record's line, which must not start with a byte order mark
    (a raw input's may: :mod:`claimwire.corpus.normalize` drops it)."""
    if line.startswith(_BOM):
        raise ClaimwireError(
            "not valid JSON: the line starts with a UTF-8 byte order mark (BOM); "
            "save the file as UTF-8 without one"
        ).located(file=path, line=lineno)
    return _json_object(path, lineno, line)


def refused_line(path: Path, lineno: int, line: bytes, error: Exception) -> ClaimwireError:
    """The located error for a record's line the typed decoder refused: the strict reader's,
    or the decoder's own reason if the strict reader takes the line."""
    _record_object(path, lineno, line)
    return ClaimwireError(f"not valid JSON: {error}").located(file=path, line=lineno)


def iter_json_lines(
    path: Path, span: LineSpan | None = None, *, records: bool = False
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line (of ``span`` only, if given);
    bad JSON is a located error. ``records``: the lines of a record file, which must not
    start with a byte order mark and are records' lines (:data:`RECORD_LINE`); a raw input's
    or a tool's may start with one, and hold a document each (:data:`DOCUMENT_LINE`)."""
    read = _record_object if records else _json_object
    limit = RECORD_LINE if records else DOCUMENT_LINE
    for first, chunk in line_blocks(path, span, limit=limit):
        for lineno, line in numbered_lines(first, chunk):
            yield lineno, read(path, lineno, line)


def _needs_checks(kind: type[Record], records: list[Any]) -> bool:
    """True if a record needs what types cannot say: an author that is not a name (each
    distinct one checked once), an annotation with only one of start and end. (An empty
    author, which ``from_dict`` reads as ``gold``, the types refuse.)"""
    if kind is Document:
        return False
    if any(map(author_problem, set(map(attrgetter("author"), records)))):
        return True
    if kind is not Annotation:
        return False
    starts = map(is_, map(attrgetter("start"), records), repeat(None))
    ends = map(is_, map(attrgetter("end"), records), repeat(None))
    return list(starts) != list(ends)  # in C: two lists compared beat one chained pass


_ENCODER = msgspec.json.Encoder()


def _proved(data: bytes, records: list[Any]) -> bool:
    """Whether ``data`` holds exactly the keys and values of its decoded ``records``, one
    record a line. The records are encoded again: lines written by :func:`write_records`
    come back byte for byte, which proves it at once; otherwise the quotes are counted (the
    decoder requires every field, so the encoded records hold each key once). Documents are
    never written in their fields' order (the text comes after the metadata): their encoded
    quotes are counted from the records, without encoding the texts again."""
    if records and type(records[0]) is Document:
        return strict_json.quoted_strings(data) == _documents_quoted(records) and _one_per_line(
            data, len(records)
        )
    if len(data) > _PROOF_PIECE:
        return _proved_by_pieces(data, records)
    encoded = _ENCODER.encode_lines(records)
    if encoded == data:
        return True
    return strict_json.quoted_strings(data) == strict_json.quoted_strings(
        encoded
    ) and _one_per_line(data, len(records))


_PROOF_PIECE = 1 << 20
"""The most bytes of lines :func:`_proved` encodes again at once (and a line more): a
document's lines read back whole (:func:`claimwire.grouping.read_lines`) are not held a
second time, encoded."""


def _proved_by_pieces(data: bytes, records: list[Any]) -> bool:
    """:func:`_proved` of a long block, a piece of whole lines at a time: each piece against
    its lines' records encoded. The quotes of the pieces that differ are counted on both
    sides (the others count alike): a piece ends after a line break, which no string or
    escape spans, so the counts add up to the whole block's; one record a line is checked
    piece by piece too (:func:`_one_per_line`, and the breaks between pieces)."""
    same, differ, done = True, 0, 0
    for piece in _pieces(data):
        lines = piece.count(b"\n") + (not piece.endswith(b"\n"))
        encoded = _ENCODER.encode_lines(records[done : done + lines])
        if encoded != piece:
            same = False
            differ += strict_json.quoted_strings(piece) - strict_json.quoted_strings(encoded)
        done += lines
    if done < len(records):  # more records than lines
        same = False
        differ -= strict_json.quoted_strings(_ENCODER.encode_lines(records[done:]))
    return same or (differ == 0 and done == len(records) and _one_per_piece(data))


def _pieces(data: bytes) -> Iterator[bytes]:
    """``data`` about :data:`_PROOF_PIECE` bytes at a time, each piece ending after a line
    break (the last one: where ``data`` ends)."""
    at = 0
    while at < len(data):
        cut = data.find(b"\n", at + _PROOF_PIECE)
        end = len(data) if cut < 0 else cut + 1
        yield data[at:end]
        at = end


def _one_per_piece(data: bytes) -> bool:
    """:func:`_one_per_line` of ``data`` for as many values as it has lines, a piece at a
    time: within each piece, and across each break that ends one (a ``}``, maybe a ``\r``,
    before it; a ``{`` after it)."""
    previous = b""
    for piece in _pieces(data):
        lines = piece.count(b"\n") + (not piece.endswith(b"\n"))
        if not _one_per_line(piece, lines):
            return False
        if previous and not (previous.endswith((b"}\n", b"}\r\n")) and piece.startswith(b"{")):
            return False
        previous = piece
    return True


Extra = tuple[str, int]
"""A key that records of an open file name and their kind does not have, and the index of
the first record naming it."""


def _decode_fast(
    kind: type[Record], data: bytes, extras: list[Extra] | None = None
) -> list[Record] | None:
    """Every record of ``data`` (JSON lines), or None if one of them needs the slow path: a
    value the types refuse, or a key named twice or unknown (the decoder would keep the last
    value, or skip it, in silence). Lines that leave fields out are decoded with the
    constructor's defaults (:data:`_OMITTING`) and proved clean by their own count.
    ``extras``: the file is open (predictions, a set), so a key of its own kind's records do
    not have is allowed (:func:`_decode_extras`) and listed there."""
    open_file = extras is not None and kind is not Document and _extras_allowed(kind)
    if open_file and _extras_seen.get(kind):  # the last block named some: this one likely too
        records = _decode_extras(kind, data, cast(list[Extra], extras))
        if records is not None or _extras_off.get(kind):  # too many keys: the strict reader
            return records
    records = _decode_closed(kind, data)
    if records is None and open_file and not _extras_seen.get(kind):
        return _decode_extras(kind, data, cast(list[Extra], extras))
    return records


def _extras_allowed(kind: type[Any]) -> bool:
    """Whether a block of ``kind`` may be decoded with extra keys: not for the next few
    tries after a block whose lines named too many (keys that vary from line to line)."""
    left = _extras_off.get(kind, 0)
    if left:
        _extras_off[kind] = left - 1
    return not left


def _decode_closed(kind: type[Record], data: bytes) -> list[Record] | None:
    """:func:`_decode_fast` of a block whose records name only their kind's keys."""
    enabled = gc.isenabled()
    gc.disable()  # the records are new objects with no cycles: collecting them is wasted work
    try:
        records = _decoder(kind).decode_lines(data)
        proved = _proved(data, records)
    except msgspec.ValidationError as error:
        if "missing required field" not in str(error):
            return None
        try:
            records = _decoder(_OMITTING[kind]).decode_lines(data)
        except REFUSED:
            return None
        proved = strict_json.quoted_strings(data) == _quoted_omitting(
            kind, records
        ) and _one_per_line(data, len(records))
        records = _as_kind(kind, records) if proved else records
    except (msgspec.DecodeError, RecursionError):
        return None
    finally:
        if enabled:
            gc.enable()
    return records if proved and not _needs_checks(kind, records) else None


_UNKNOWN_KEY = "Object contains unknown field `"
"""How msgspec's error for a key the Struct does not have begins."""
_MOST_EXTRAS = 8
"""The unknown keys a block may name and still be read on the fast path: a model's
``score``, ``confidence``, ``model``... More go to the strict reader, which warns about them."""
_NOT_EXTRA: dict[type, frozenset[str]] = {
    Annotation: frozenset({"head", "tail"}),
    Relation: frozenset(),
}
"""Keys that are never an annotation's extra key: naming one makes a line a relation."""
_extras_off: dict[type, int] = {}
"""For each kind, how many more times its lines are decoded without trying extra keys: after
a block whose lines named more than :data:`_MOST_EXTRAS`, the next ones likely do too, and
each try costs two decodings before the strict reader. (A block of a mixed file that is not
decoded whole is decoded again a kind at a time: two of these times.)"""
_SKIPPED_TRIES = 16
_extras_seen: dict[type, tuple[str, ...]] = {}
"""The extra keys each kind's last block named: the next block (of any open file) is
decoded with them, and before it is tried without, as a file names the same ones on every
line."""


def _decode_extras(kind: type[Record], data: bytes, extras: list[Extra]) -> list[Record] | None:
    """The records of ``data``, proved clean as :func:`_decode_closed` proves them but with
    the top-level keys their kind does not have as more fields (of any JSON value), and
    ``extras`` told which those are; None if a line leaves a field out, names an unknown key
    inside an object, or the block names more than :data:`_MOST_EXTRAS` of them. Decoded
    with the last block's extra keys first; a block naming others is decoded once as plain
    objects to learn them all, then again."""
    keys = _extras_seen.get(kind, ())
    try:
        records = _extras_decoder(kind, keys).decode_lines(data)
    except msgspec.ValidationError as error:
        found = _unknown_keys(kind, data) if str(error).startswith(_UNKNOWN_KEY) else None
        if found is not None and len(found) > _MOST_EXTRAS:
            _extras_off[kind], _extras_seen[kind] = _SKIPPED_TRIES, ()
        if found is None or len(found) > _MOST_EXTRAS:
            return None
        keys = tuple(sorted(found))
        try:
            records = _extras_decoder(kind, keys).decode_lines(data)
        except REFUSED:
            return None
    except (msgspec.DecodeError, RecursionError):
        return None
    if not _proved(data, records) or _needs_checks(kind, records):
        return None
    named = []
    for i, key in enumerate(keys):
        present = list(map(is_not, map(attrgetter(f"extra{i}"), records), repeat(msgspec.UNSET)))
        if True in present:
            named.append(key)
            extras.append((key, present.index(True)))
    _extras_seen[kind] = tuple(named)
    return _as_kind(kind, records)


_OBJECTS: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


def _unknown_keys(kind: type[Any], data: bytes) -> set[str] | None:
    """Every top-level key the lines of ``data`` name that ``kind`` does not have, read by
    decoding them once as plain objects; None if a line is not an object or names a key that
    makes an annotation a relation."""
    try:
        objects = _OBJECTS.decode_lines(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if not all(isinstance(obj, dict) for obj in objects):
        return None
    found = set().union(*map(dict.keys, objects)) - set(kind.__struct_fields__)
    return None if found & _NOT_EXTRA[kind] else found


_TWINS: dict[tuple[type, tuple[str, ...]], msgspec.json.Decoder[Any]] = {}
"""The decoders of :func:`_extras_decoder` made so far (at most 64 are kept)."""


def _extras_decoder(kind: type[Any], keys: tuple[str, ...]) -> msgspec.json.Decoder[Any]:
    """A decoder into a Struct of ``kind``'s fields, then one of any JSON value for each of
    ``keys`` (``extra0``..., named so in JSON by ``rename``), left unset when a line does not
    name it; any other key is refused (its message names the line)."""
    if (kind, keys) not in _TWINS:
        if len(_TWINS) >= 64:
            _TWINS.clear()
        hints = typing.get_type_hints(kind, include_extras=True)
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = [
            (name, hints[name]) for name in kind.__struct_fields__
        ]
        fields += [(f"extra{i}", Any, msgspec.UNSET) for i in range(len(keys))]
        twin = msgspec.defstruct(
            f"_Extra{kind.__name__}",
            fields,
            rename={f"extra{i}": key for i, key in enumerate(keys)},
            forbid_unknown_fields=True,
            frozen=True,
            gc=False,
            module=__name__,
        )
        _TWINS[kind, keys] = msgspec.json.Decoder(twin)
    return _TWINS[kind, keys]


def _one_per_line(data: bytes, count: int) -> bool:
    """Whether ``data``'s ``count`` decoded values are one to a line: every line break but a
    final one stands between a ``}`` and a ``{`` (which no JSON value holds inside it, so no
    value spans lines; a ``\\r`` may come before the break) and there are as many lines as
    values (so none holds two). The bytes around the breaks are looked up with numpy."""
    import numpy as np

    raw = np.frombuffer(data, dtype=np.uint8)
    breaks = np.flatnonzero(raw == NEWLINE)
    if data.endswith(b"\n"):
        breaks = breaks[:-1]
    if count != len(breaks) + 1:
        return False
    if not len(breaks):
        return True
    if breaks[0] == 0:
        return False
    before = breaks - 1
    returns = raw[before] == CARRIAGE_RETURN
    before[returns] -= 1  # "}\r\n{"
    if before[0] < 0:
        return False
    return bool(np.all((raw[before] == CLOSE) & (raw[breaks + 1] == OPEN)))


CARRIAGE_RETURN, OPEN, CLOSE = b"\r{}"


def _omitting_twin(kind: _RecordClass, twins: Mapping[type, Any]) -> Any:
    """A Struct of ``kind``'s fields, in its order, whose fields take the defaults of
    ``kind``'s constructor as their own (a ``None`` mapping stands for an empty one); a field
    holding a record class holds that class's twin instead."""
    hints = typing.get_type_hints(kind, include_extras=True)
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for name in kind.__struct_fields__:
        hint = hints[name]
        for record, twin in twins.items():
            hint = twin | None if hint == record | None else hint
        if name not in kind.defaults:
            fields.append((name, hint))
        elif kind.defaults[name] is None and typing.get_origin(hint) is Mapping:
            fields.append((name, hint, {}))
        else:
            fields.append((name, hint, kind.defaults[name]))
    return msgspec.defstruct(
        f"_Omitting{kind.__name__}", fields, frozen=True, gc=False, module=__name__
    )


_QUOTE_TWIN = _omitting_twin(Quote, {})
_OMITTING: dict[type, Any] = {
    kind: _omitting_twin(kind, {Quote: _QUOTE_TWIN}) for kind in (Annotation, Relation, Document)
}
"""For each record class, a Struct of the same fields whose fields have the constructor's
defaults: what the typed decoder fills in for lines that leave fields out. Its records are
made records of the class itself right after decoding (:func:`_as_kind`)."""


def _as_kind(kind: type[Record], records: list[Any]) -> list[Record]:
    """Records decoded as :data:`_OMITTING` twins, as records of ``kind`` (one C call)."""
    return msgspec.convert(records, list[kind], from_attributes=True)  # type: ignore[valid-type]


def _present(records: list[Any], name: str, default: Any) -> int:
    """How many records have ``name`` other than ``default`` (so their line named it)."""
    values = list(map(attrgetter(name), records))
    if default is None:
        return sum(map(is_not, values, repeat(None)))
    return len(values) - values.count(default)


def _quoted_omitting(kind: type[Record], records: list[Any]) -> int:
    """:func:`_quoted` for records whose lines may leave fields out: a field counts only when
    its value is not the default, so a line that names a field with its default value (or
    names it twice) is not proved clean and goes to the strict reader."""
    n = len(records)
    if kind is Document:
        count = 6 * n + 3 * n + _present(records, "lang", None)
        return 2 * count + _objects_quoted(records, "meta")
    authors = _present(records, "author", "gold")
    count = (5 if kind is Relation else 4) * 2 * n + 2 * authors
    if kind is Annotation:
        count += _present(records, "start", None) + _present(records, "end", None)
        quotes = list(filter(None, map(attrgetter("quote"), records)))
        count += 3 * len(quotes)  # the key quote, and exact: key and string
        count += 2 * (_present(quotes, "prefix", "") + _present(quotes, "suffix", ""))
    return 2 * count + _objects_quoted(records, "attributes")


def _documents_quoted(records: list[Document]) -> int:
    """``strict_json.quoted_strings`` of the documents encoded (``encode_lines``): the quotes
    of their seven keys, of ``id``, ``text``, ``split`` and a ``lang`` that is not null, and
    those of their metadata (encoded: a small part of a document)."""
    strings = (7 + 3) * len(records) + _present(records, "lang", None)
    return 2 * strings + strict_json.quoted_strings(
        _ENCODER.encode(list(map(attrgetter("meta"), records)))
    )


def _objects_quoted(records: list[Any], name: str) -> int:
    """Twice the keys and strings of each record's free-form object ``name``, plus twice one
    key for each that is not empty (an empty one may have been left out)."""
    objects = list(map(attrgetter(name), records))
    present = len(objects) - list(map(len, objects)).count(0)
    return 2 * present + strict_json.quoted_strings(_ENCODER.encode(objects))


RecordErrorHandler = Callable[[RecordError, int, dict[str, Any]], None]

_QUOTE_KEYS = {"quote": Quote.__struct_fields__}
_KEYS: dict[type, tuple[str, tuple[str, ...], Mapping[str, tuple[str, ...]]]] = {
    Annotation: ("an annotation", Annotation.__struct_fields__, _QUOTE_KEYS),
    Relation: ("a relation", Relation.__struct_fields__, {}),
    Document: ("a document", Document.__struct_fields__, {}),
}
"""What each kind is called, its keys, and the keys of its objects whose keys are fixed."""


def check_record_keys(
    path: Path | str,
    lineno: int,
    obj: Mapping[str, Any],
    kind: type[Any],
    closed: bool,
    *,
    counted_as: str | None = None,
) -> None:
    """:func:`claimwire.record_keys.check_keys` for ``obj``, a record of ``kind`` read from
    line ``lineno`` of ``path``: an unknown key is an error if ``closed``, else a warning
    (once per key of the file ``counted_as``, else ``path``)."""
    check_keys(path, lineno, obj, *_KEYS[kind], closed, counted_as=counted_as)


def decode_lines(
    path: Path,
    lines: Iterable[tuple[int, bytes]],
    kind_of: Callable[[dict[str, Any]], type[Any]],
    on_error: RecordErrorHandler | None,
    *,
    closed: bool = True,
) -> Iterator[tuple[int, Any]]:
    """``(line number, record)`` of each of ``lines``, decoded one at a time as the type
    ``kind_of(its object)`` with the per-field checks: a bad line raises a
    :class:`RecordError` naming file, line and field, or goes to ``on_error`` and is
    skipped. A key the type does not have is such an error when ``closed`` (a release's
    own records), else a warning once per key and file (:mod:`claimwire.record_keys`). The
    slow path: a block of one kind goes through :func:`decode_block`."""
    for lineno, line in lines:
        obj = _record_object(path, lineno, line)
        try:
            kind = kind_of(obj)
            check_record_keys(path, lineno, obj, kind, closed)
            yield lineno, kind.from_dict(obj)
        except RecordError as error:
            if on_error is None:
                raise error.located(file=path, line=lineno) from None
            error.located(file=path, line=lineno)
            on_error(error, lineno, obj)


def read_numbered(
    path: Path, kind: type[Record], on_error: RecordErrorHandler | None = None
) -> Iterator[tuple[int, Record]]:
    """``(line number, record)`` for each record of a JSONL file of one kind.

    The fast path decodes a block of lines with a typed decoder; a block it refuses is read
    again line by line, so a bad record is reported exactly as the per-field checks word it
    (or handed to ``on_error``, and reading goes on).
    """
    first = 1
    for chunk in blocks(path, limit=line_limit(kind)):
        records = _decode_fast(kind, chunk)
        if records is not None:  # proved one record a line: the lines need no count
            yield from enumerate(records, start=first)
            first += len(records)
        else:
            yield from decode_lines(path, numbered_lines(first, chunk), lambda _: kind, on_error)
            first += lines_in(chunk)


def line_limit(kind: type[Any]) -> LineLimit:
    """The longest line of a file of ``kind``'s records: a document's, or a record's."""
    return DOCUMENT_LINE if kind is Document else RECORD_LINE


def read_records(path: Path, kind: type[Record]) -> Iterator[Record]:
    """Read one record type from a JSONL file, naming the file, line and field of any error."""
    first = 1
    for chunk in blocks(path, limit=line_limit(kind)):
        records = _decode_fast(kind, chunk)
        if records is not None:
            yield from records
            first += len(records)
        else:
            for _, record in decode_lines(path, numbered_lines(first, chunk), lambda _: kind, None):
                yield record
            first += lines_in(chunk)


def _is_relation(obj: Mapping[str, Any]) -> bool:
    return "head" in obj or "tail" in obj


def read_mixed(path: Path) -> Iterator[tuple[int, Annotation | Relation]]:
    """``(line number, record)`` for a file of annotations and relations in any order.

    A line naming ``head`` or ``tail`` is a relation. Within each kind, records come in file
    order; each block of lines yields its annotations, then its relations.
    """
    for notes, relations in mixed_columns(path):
        yield from zip(*notes, strict=True)
        yield from zip(*relations, strict=True)


Columns = tuple[list[int], list[Any]]
"""Line numbers and the records read from them."""


def mixed_columns(
    path: Path, kind: type[Annotation] | type[Relation] | None = None
) -> Iterator[tuple[Columns, Columns]]:
    """:func:`read_mixed` a block of lines at a time: the block's annotations and its
    relations, each kind as two lists (line numbers, records), in file order. ``kind``: the
    file holds records of that kind (a release's annotations or relations), so a block is
    decoded as that kind in one call, without looking for the other kind's lines, when it
    proves clean (and, for annotations, holds no relation's key): the records a mixed
    reading gives; any other block is read as a mixed one."""
    first = 1
    for chunk in blocks(path):
        records = _of_kind(kind, chunk) if kind is not None else None
        if records is not None:
            columns: Columns = (list(range(first, first + len(records))), records)
            yield (columns, ([], [])) if kind is Annotation else (([], []), columns)
            first += len(records)
            continue
        decoded = _kinds_apart(path, first, chunk, open_file=kind is None)
        if decoded is None:
            numbers, records = decode_columns(
                path, *line_columns(first, chunk), closed=kind is not None
            )
            relation = [isinstance(record, Relation) for record in records]
            annotation = [not flag for flag in relation]
            decoded = (
                (list(compress(numbers, annotation)), list(compress(records, annotation))),
                (list(compress(numbers, relation)), list(compress(records, relation))),
            )
            first += lines_in(chunk)
        else:
            first += len(decoded[0][0]) + len(decoded[1][0])
        yield decoded


def _of_kind(kind: type[Annotation] | type[Relation], chunk: bytes) -> list[Any] | None:
    """The records of a block of one kind's lines, proved clean (:func:`_decode_fast`), or
    None; annotations only when no line holds :data:`_RELATION_KEY` (a mixed reading takes
    such a line for a relation)."""
    if kind is Annotation and _RELATION_KEY in chunk:
        return None
    return _decode_fast(kind, chunk)


_RELATION_KEY = b'","head":"'
"""How :func:`write_records` writes a relation's ``head`` after its ``type``: longer than the
key alone, so the scan for it skips more bytes at a time (127 against 212 ns a record)."""


def _relation_lines(chunk: bytes) -> tuple[list[int], list[int]]:
    """Where each line of ``chunk`` holding :data:`_RELATION_KEY` starts, and where it ends
    (after its line break): one C scan for the key, resumed at the end of each line it is
    found in, and Python work per relation line only. A line that writes its keys otherwise
    (or names only ``"tail"``) is taken for an annotation here; the proof refuses it as one
    (a key the type does not know, or one it needs missing), and the block is read again by
    :func:`decode_columns`."""
    starts: list[int] = []
    ends: list[int] = []
    find = chunk.find
    at = find(_RELATION_KEY)
    while at >= 0:
        starts.append(chunk.rfind(b"\n", 0, at) + 1)
        end = find(b"\n", at) + 1 or len(chunk)
        ends.append(end)
        at = find(_RELATION_KEY, end)
    return starts, ends


def _joined(chunk: bytes, starts: list[int], ends: list[int]) -> bytes:
    """The bytes of ``chunk`` from each of ``starts`` to the matching end, joined (one
    copy)."""
    view = memoryview(chunk)
    return b"".join([view[start:end] for start, end in zip(starts, ends, strict=True)])


def _kinds_apart(
    path: Path, first: int, chunk: bytes, open_file: bool
) -> tuple[Columns, Columns] | None:
    """A block's annotations and its relations, each kind's lines decoded in one call and
    proved clean, with their line numbers (the block's first is ``first``); None if the
    typed decoder refuses either kind's lines (a blank line among them too: the proof
    requires one record a line). The lines are never listed: the relation lines are found
    by :func:`_relation_lines`, the annotation lines are the runs between them, and a
    relation's line number is the count of line breaks before it (numpy). ``open_file``: the
    file may name keys the records do not have (warned about, :func:`_decode_extras`)."""
    starts, ends = _relation_lines(chunk)
    note_extras: list[Extra] | None = [] if open_file else None
    relation_extras: list[Extra] | None = [] if open_file else None
    notes = _decode_fast(
        Annotation,
        _joined(chunk, [0, *ends], [*starts, len(chunk)]) if starts else chunk,
        note_extras,
    )
    relations = (
        _decode_fast(Relation, _joined(chunk, starts, ends), relation_extras) if starts else []
    )
    if notes is None or relations is None:
        return None
    numbers = list(range(first, first + len(notes) + len(relations)))
    relation_numbers: list[int] = []
    if starts:
        import numpy as np

        breaks = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == NEWLINE)
        lines = np.searchsorted(breaks, starts).tolist()  # each relation's line, from 0
        relation_numbers = [numbers[line] for line in lines]
        for line in reversed(lines):
            del numbers[line]
    _warn_extras(
        path, [(Annotation, note_extras, numbers), (Relation, relation_extras, relation_numbers)]
    )
    return (numbers, notes), (relation_numbers, relations)


def _warn_extras(path: Path, found: list[tuple[type[Any], list[Extra] | None, list[int]]]) -> None:
    """Warn about each extra key records of ``path`` named (of each kind, the records
    numbered so), in the order of the lines first naming them, as the strict reader does
    (:func:`claimwire.record_keys.warn_unknown`)."""
    named = sorted(
        (numbers[index], key, kind)
        for kind, extras, numbers in found
        for key, index in extras or ()
    )
    for lineno, key, kind in named:
        what, fields, _ = _KEYS[kind]
        warn_unknown(path, lineno, key, what, fields)


def decode_numbered(
    path: Path,
    numbered: Iterable[tuple[int, bytes]],
    kind: type[Annotation] | type[Relation] | None = None,
    on_error: RecordErrorHandler | None = None,
) -> Iterator[tuple[int, Annotation | Relation]]:
    """Lines already read, each with its number in ``path``, as records of ``kind`` (of
    either kind when None: :func:`decode_mixed`); a bad record goes to ``on_error`` if given,
    else raises its located error."""
    pairs = list(numbered)
    numbers, records = decode_columns(
        path, [n for n, _ in pairs], [line for _, line in pairs], kind, on_error
    )
    return zip(numbers, records, strict=True)


def decode_block(kind: type[Any], data: bytes, count: int) -> list[Any] | None:
    """The ``count`` records of ``data`` (lines of one kind, no blank one) in one call of
    the typed decoder, proved clean; None if it refuses them (read them line by line)."""
    records = _decode_fast(kind, data)
    return records if records is not None and len(records) == count else None


def decode_columns(
    path: Path,
    numbers: list[int],
    lines: list[bytes],
    kind: type[Annotation] | type[Relation] | None = None,
    on_error: RecordErrorHandler | None = None,
    closed: bool | None = None,
) -> tuple[list[int], list[Any]]:
    """:func:`decode_numbered` on two lists, line numbers and lines, into two lists, the
    records and their numbers: each kind's lines decoded in one call, no per-line Python on
    the fast path. Of either kind, a line naming ``head`` or ``tail`` is a relation; without
    ``on_error`` the annotations come first, then the relations. ``closed``: an unknown key
    is an error (default: when ``kind`` is given, a release's file), else a warning."""
    chosen: type[Any] | None = kind
    if kind is None:
        data = b"\n".join(lines)
        if b'"head"' not in data and b'"tail"' not in data:
            chosen = Annotation
    else:
        data = None
    if chosen is not None:
        groups = [(chosen, numbers, lines, data)]
    else:
        groups = _by_kind(numbers, lines, first_seen=on_error is not None)
    kind_of = _kind_of_object if kind is None and on_error is None else None
    decoded_numbers: list[int] = []
    decoded: list[Any] = []
    for group, group_numbers, group_lines, joined in groups:
        if not group_lines:
            continue
        if joined is None:
            joined = b"\n".join(group_lines)
        is_closed = kind is not None if closed is None else closed
        extras: list[Extra] | None = None if is_closed else []
        records: list[Any] | None = _decode_fast(group, joined, extras)
        if records is not None and len(records) == len(group_lines):
            _warn_extras(path, [(group, extras, group_numbers)])
            decoded_numbers += group_numbers
            decoded += records
            continue
        numbered = zip(group_numbers, group_lines, strict=True)
        for lineno, record in decode_lines(
            path,
            numbered,
            kind_of or _constant(group),
            on_error,
            closed=is_closed,
        ):
            decoded_numbers.append(lineno)
            decoded.append(record)
    return decoded_numbers, decoded


def _by_kind(
    numbers: list[int], lines: list[bytes], first_seen: bool
) -> list[tuple[type[Any], list[int], list[bytes], bytes | None]]:
    """The lines of each kind with their numbers: annotations then relations, or (with
    ``first_seen``) the kind of the first line first."""
    relation = [b'"head"' in line or b'"tail"' in line for line in lines]
    annotation = [not flag for flag in relation]
    groups: list[tuple[type[Any], list[int], list[bytes], bytes | None]] = [
        (Annotation, list(compress(numbers, annotation)), list(compress(lines, annotation)), None),
        (Relation, list(compress(numbers, relation)), list(compress(lines, relation)), None),
    ]
    if first_seen and relation and relation[0]:
        groups.reverse()
    return groups


def _constant(kind: type[Any]) -> Callable[[dict[str, Any]], type[Any]]:
    return lambda _: kind


def _kind_of_object(obj: Mapping[str, Any]) -> type[Any]:
    return Relation if _is_relation(obj) else Annotation


def decode_mixed(
    path: Path, numbered: Iterable[tuple[int, bytes]]
) -> Iterator[tuple[int, Annotation | Relation]]:
    """:func:`read_mixed` on lines already read, each with its number in ``path``: the
    annotations, then the relations."""
    return decode_numbered(path, numbered)


Writable = Document | Annotation | Relation | str
"""A record, or its line already made by :func:`record_line`."""

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def record_line(record: Document | Annotation | Relation) -> str:
    """The record's JSONL line (compact, UTF-8, not ASCII-escaped), newline included: what
    :func:`write_records` writes for it."""
    return _ENCODE(record.to_dict()) + "\n"


def write_records(path: Path, records: Iterable[Writable]) -> int:
    """Write records as JSONL (UTF-8, not ASCII-escaped); return how many were written. A
    string is a record's line made already (:func:`record_line`, by an engine's worker). A
    name ending in ``.zst`` or ``.gz`` (in any case) is written compressed so."""
    if is_zstd(path):
        import zstandard

        with zstandard.open(path, "wt", encoding="utf-8") as compressed:
            return _write_records(compressed, records)
    if is_gzip(path):
        import gzip
        import io

        with (
            path.open("wb") as out,  # no name nor time inside: the same records, the same bytes
            gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as packed,
            io.TextIOWrapper(packed, encoding="utf-8") as text,
        ):
            return _write_records(text, records)
    with path.open("w", encoding="utf-8") as handle:
        return _write_records(handle, records)


def write_records_atomically(path: Path, records: Iterable[Writable]) -> int:
    """:func:`write_records` through :func:`claimwire.files.atomic_writer`."""
    with atomic_writer(path) as handle:
        return _write_records(handle, records)


def _write_records(handle: TextIO, records: Iterable[Writable]) -> int:
    count = 0
    for record in records:
        handle.write(record if isinstance(record, str) else record_line(record))
        count += 1
    return count
