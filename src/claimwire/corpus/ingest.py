"""Turn raw inputs (plain text, HTML pages, JSONL) into segmented, identified documents.

Raw files are read as received and never edited. Corrections and split choices live in an
optional sidecar ``<file>.meta.yaml`` (or, for JSONL, in each line's fields), which overrides
what is read from the text.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import itertools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any

from claimwire.annotation.yaml_lines import load_yaml
from claimwire.corpus.duplicates import Fingerprint, fingerprint
from claimwire.corpus.identity import SPLIT_NAMES, assign_split, document_id
from claimwire.corpus.language import identify_language
from claimwire.corpus.line_ranges import line_ranges
from claimwire.corpus.metadata import extract_metadata
from claimwire.corpus.normalize import (
    check_utf8,
    decode_utf8,
    normalize_text,
    split_date_marker,
)
from claimwire.corpus.pairing import SOURCE_ID, SOURCE_ID_CHARS
from claimwire.corpus.raw_folder import (
    COMPRESSED_JSONL,
    HTML_SUFFIXES,
    JSONL_SUFFIXES,
    SIDECAR_SUFFIX,
    suffix_of,
)
from claimwire.corpus.segment import SentenceSegmenter, segment
from claimwire.engine import batches
from claimwire.errors import ClaimwireError, shown
from claimwire.files import sha256
from claimwire.lines import DOCUMENT_LINE, LineSpan
from claimwire.model import Document, iter_json_lines, record_line, replaced

OVERRIDABLE = frozenset(
    {"title", "dateline_city", "published", "wire", "distribution_id", "issuer", "urls"}
)
"""Metadata fields a sidecar or a JSONL line may set; ``lang`` and ``split`` may be set too."""


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One input document's normalized text and where it came from."""

    text: str
    source_file: str
    source_sha256: str
    source_line: int | None = None
    title: str | None = None
    date_marker: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    source_id: str | None = None
    """The document's id in the user's data (a JSONL line's ``id``)."""

    @property
    def source(self) -> str:
        """A key naming the input: the file, and the line for JSONL inputs."""
        return self.source_file + (f"#L{self.source_line}" if self.source_line else "")


def _check_line(line: str, path: Path, lineno: int | None) -> None:
    """A document's release line over the document line's limit is refused at its input."""
    if len(line) * 4 <= DOCUMENT_LINE.bytes:  # fits, whatever its characters
        return
    size = len(line.encode("utf-8")) - 1  # its line break is not counted
    if size > DOCUMENT_LINE.bytes:
        raise ClaimwireError(
            f"the document read here takes {size:,} bytes on the release's line (text, "
            f"segments, metadata); a {DOCUMENT_LINE.holds} line holds at most "
            f"{DOCUMENT_LINE.bytes:,} (docs/security.md): split it into several inputs",
            file=path,
            line=lineno,
        )


def _expected_type(key: str, value: Any) -> str | None:
    """What ``value`` should have been for metadata field ``key``; None when it is fine."""
    if key == "urls":
        ok = isinstance(value, list) and all(isinstance(url, str) for url in value)
        return None if ok or value is None else "a list of strings"
    if key == "published" and isinstance(value, datetime.date):
        return None
    if value is None:
        return None
    if not isinstance(value, str):
        return "a string"
    if key == "lang" and not _LANGUAGE_TAG.fullmatch(value):
        return "a language tag such as fr, en or pt-BR"
    if key == "published" and not _iso_date(value):
        return "an ISO 8601 date such as 2025-06-17 (or date and time)"
    return None


_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
"""A BCP 47 tag's usual shape: a 2–3 letter language, then subtags (``pt-BR``, ``zh-Hant``)."""


def _iso_date(value: str) -> bool:
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_overrides(overrides: Mapping[str, Any], source: Path, line: int | None) -> None:
    allowed = OVERRIDABLE | {"lang", "split"}
    for key, value in overrides.items():
        if key not in allowed:
            raise ClaimwireError(
                f"unknown metadata field; expected one of {', '.join(sorted(allowed))}",
                file=source,
                line=line,
                field=key,
            )
        expected = _expected_type(key, value)
        if expected:
            got = f"{value!r}" if isinstance(value, str) else type(value).__name__
            raise ClaimwireError(
                f"expected {expected}, got {got}",
                file=source,
                line=line,
                field=key,
            )
        if key == "split" and value not in SPLIT_NAMES:
            raise ClaimwireError(
                f"expected one of {', '.join(SPLIT_NAMES)}, got {value!r}",
                file=source,
                line=line,
                field=key,
            )


def _sidecar(path: Path) -> dict[str, Any]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    data = load_yaml(sidecar) or {}
    if not isinstance(data, dict):
        raise ClaimwireError("expected a mapping of metadata fields", file=sidecar)
    _check_overrides(data, sidecar, None)
    return data


# The extractor collapses every Unicode space to " ", which would lose the no-break spaces of
# French typography ("90\u00a0%", "3\u202f000"): they cross it disguised as printable
# letters (rare Latin modifier letters), written literally or as HTML entities.
_KEPT_SPACES = {"\u00a0": "\ua7f7", "\u202f": "\ua7f8", "\u2009": "\ua7f9"}
_SPACE_ENTITY = re.compile(
    r"&(?:nbsp|NonBreakingSpace|thinsp|ThinSpace|#160|#x0*a0|#8239|#x0*202f|#8201|#x0*2009);",
    re.IGNORECASE,
)
_ENTITY_CHAR = {
    "nbsp": "\u00a0",
    "nonbreakingspace": "\u00a0",
    "#160": "\u00a0",
    "thinsp": "\u2009",
    "thinspace": "\u2009",
    "#8201": "\u2009",
    "#8239": "\u202f",
}


def _entity_space(entity: str) -> str:
    name = entity[1:-1].lower()
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    return _ENTITY_CHAR[name]


def _protect_spaces(html: str) -> str:
    html = _SPACE_ENTITY.sub(lambda m: _entity_space(m.group(0)), html)
    for space, stand_in in _KEPT_SPACES.items():
        html = html.replace(space, stand_in)
    return html


def _restore_spaces(text: str) -> str:
    for space, stand_in in _KEPT_SPACES.items():
        text = text.replace(stand_in, space)
    return text


_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)"""
    rb"""|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)
"""A page's declared charset: ``<meta charset>``, ``<meta http-equiv="Content-Type"
content="text/html; charset=…">`` or an XML declaration's ``encoding``."""
CHARSET_BYTES = 4096
"""How far into a page its charset declaration is looked for."""


def _decode_html(data: bytes, path: Path) -> str:
    """A page's text: UTF-8 when it is; else in the charset it declares (``windows-1252``,
    ``iso-8859-1``…), as a browser reads it; not UTF-8 and declaring none (or UTF-8), the
    UTF-8 error naming the byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    found = _DECLARED_CHARSET.search(data[:CHARSET_BYTES])
    name = (found.group(1) or found.group(2)).decode("ascii") if found else None
    try:
        info = codecs.lookup(name) if name else None
    except LookupError:
        raise ClaimwireError(
            f"not UTF-8, and its declared charset {name!r} is not one Python knows", file=path
        ) from None
    if info is not None and not getattr(info, "_is_text_encoding", True):
        raise ClaimwireError(  # hex, base64, rot13, zlib: codecs of bytes, not charsets
            f"not UTF-8, and its declared charset {name!r} is not a text encoding", file=path
        )
    codec = info.name if info else None
    if codec is None or codec in ("utf-8", "utf-8-sig"):
        return decode_utf8(data, path)  # the located UTF-8 error
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ClaimwireError(
            f"not valid in its declared charset {name}: byte 0x{data[error.start]:02x} at "
            f"byte offset {error.start}",
            file=path,
            line=line,
        ) from None


def _check_depth(html: str, path: Path) -> None:
    """Refuse a page nested deeper than the HTML parser reads: libxml2 stops at 256 levels
    and the extractor would silently lose every word below (a paragraph under 256 ``<div>``)."""
    from lxml import etree  # type: ignore[import-untyped]  # with trafilatura: HTML only

    parser = etree.HTMLParser(encoding="utf-8")
    etree.fromstring(html.encode("utf-8"), parser)
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT":
            depth = re.search(r"depth in document: (\d+)", entry.message)
            limit = f"{depth.group(1)} levels or more" if depth else "past its limit"
            raise ClaimwireError(
                f"HTML elements nested deeper than the parser reads ({limit}, at line "
                f"{entry.line}): the text below would be lost; flatten the page or save its "
                "text as .txt",
                file=path,
            )


def _html_text(html: str) -> tuple[str, str | None]:
    import trafilatura  # imported here: it is slow to import and only HTML needs it

    protect = not any(stand_in in html for stand_in in _KEPT_SPACES.values())
    extracted: Any = trafilatura.bare_extraction(
        _protect_spaces(html) if protect else html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        favor_precision=True,
    )
    if extracted is None or not extracted.text:
        return "", None
    restore = _restore_spaces if protect else str
    lines = restore(str(extracted.text)).split("\n")
    title = restore(str(extracted.title)) if extracted.title else None
    return "\n\n".join(line.strip() for line in lines if line.strip()), title


def read_raw(path: Path, root: Path) -> Iterator[RawDocument]:
    """Read one raw input file; a JSONL file yields one document per line."""
    relative = path.relative_to(root).as_posix()
    suffix = suffix_of(path)
    if suffix in JSONL_SUFFIXES:  # a block at a time (a zstd or gzip one decompressed as read)
        check_utf8(path)  # a located error for bad bytes before any JSON is parsed
        yield from _read_jsonl(path, relative, sha256(path))
        return
    data = path.read_bytes()
    digest = sha256(data)
    text = normalize_text(
        _decode_html(data, path) if suffix in HTML_SUFFIXES else decode_utf8(data, path)
    )
    title = None
    if suffix in HTML_SUFFIXES:
        _check_depth(text, path)
        text, title = _html_text(text)
        text = normalize_text(text)
    marker, text = split_date_marker(text, path)
    if not text.strip():
        raise ClaimwireError("no text found in this input", file=path)
    yield RawDocument(text, relative, digest, None, title, marker, _sidecar(path))


def _read_jsonl(
    path: Path, relative: str, digest: str, span: LineSpan | None = None
) -> Iterator[RawDocument]:
    for lineno, record in iter_json_lines(path, span):
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ClaimwireError(
                "expected a non-empty string", file=path, line=lineno, field="text"
            )
        overrides = {k: v for k, v in record.items() if k not in ("text", "id")}
        _check_overrides(overrides, path, lineno)
        source_id = _source_id(record, path, lineno)
        marker, body = split_date_marker(normalize_text(text), path, lineno)
        yield RawDocument(body, relative, digest, lineno, None, marker, overrides, source_id)


def _source_id(record: Mapping[str, Any], path: Path, lineno: int) -> str | None:
    """A JSONL line's ``id``, if it has one: a string of 1 to :data:`SOURCE_ID_CHARS`
    characters, not only spaces, without control characters."""
    if "id" not in record:
        return None
    value = record["id"]
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > SOURCE_ID_CHARS
        or any(unicodedata.category(char) == "Cc" for char in value)
    ):
        raise ClaimwireError(
            f"expected your id for the document, a string of 1 to {SOURCE_ID_CHARS} "
            f"characters without control characters, got {shown(value)}",
            file=path,
            line=lineno,
            field="id",
        )
    return value


@dataclass(frozen=True, slots=True)
class RawFiles:
    """A part of the raw inputs for an engine: ``(file index, item)`` per document, where
    the item is a JSONL line already read, or a text/HTML file to read in the stage (where
    the HTML extraction costs). Iterated where the engine's worker is."""

    root: Path
    files: Sequence[tuple[int, Path]]

    def __iter__(self) -> Iterator[tuple[int, RawDocument | Path | Unread]]:
        for index, path in self.files:
            if suffix_of(path) in JSONL_SUFFIXES:
                try:
                    yield from ((index, raw) for raw in read_raw(path, self.root))
                except ClaimwireError as error:  # the next inputs are read all the same
                    yield index, Unread(error)
            else:
                yield index, path

    def pieces(self, items: int) -> Iterator[RawFiles | JsonlLines]:
        """This part cut into pieces of at most ``items`` documents that each read their own
        inputs: a JSONL input's ranges of ``items`` lines (found in one pass over it, which
        also hashes it and checks its bytes), runs of ``items`` other files. A JSONL input
        that pass cannot read or finds not UTF-8, or a compressed one, is one piece, which
        is read (and fails) where the engine's worker is, as the whole part would."""
        for jsonl, group in itertools.groupby(self.files, key=_is_jsonl):
            if not jsonl:
                yield from (RawFiles(self.root, tuple(run)) for run in batches(group, items))
                continue
            for index, path in group:
                compressed = suffix_of(path) in COMPRESSED_JSONL  # read from its start
                found = None if compressed else line_ranges(path, items)
                if found is None:
                    yield RawFiles(self.root, ((index, path),))
                    continue
                digest, spans = found
                yield from (JsonlLines(self.root, index, path, digest, span) for span in spans)


def _is_jsonl(file: tuple[int, Path]) -> bool:
    return suffix_of(file[1]) in JSONL_SUFFIXES


@dataclass(frozen=True, slots=True)
class JsonlLines:
    """A range of lines of one JSONL input (a piece of :class:`RawFiles`), read where the
    engine's worker is: ``(file index, document)`` for each line, numbered in the file."""

    root: Path
    index: int
    path: Path
    digest: str
    """The whole file's SHA-256, which every document records."""
    span: LineSpan

    def __iter__(self) -> Iterator[tuple[int, RawDocument | Path | Unread]]:
        relative = self.path.relative_to(self.root).as_posix()
        try:
            for raw in _read_jsonl(self.path, relative, self.digest, self.span):
                yield self.index, raw
        except ClaimwireError as error:
            yield self.index, Unread(error)


@dataclass(frozen=True, slots=True)
class Unread:
    """A raw input the build cannot read, and why (the error's line): the build reads the
    others, to name every one at once, then fails (:func:`claimwire.corpus.release`)."""

    error: ClaimwireError


@dataclass(frozen=True, slots=True)
class Built:
    """One ingested document as the build's driver needs it: its release line made already
    (the driver writes it as it is: no document object crosses between processes), what
    the manifest counts, and its fingerprint for duplicates."""

    file_index: int
    source: str
    source_id: str | None
    """The document's id in the user's data, if given."""
    doc_id: str
    split: str
    split_given: bool
    """Whether the input chose the split (a sidecar's or JSONL line's ``split``)."""
    text_sha256: str
    sizes: tuple[int, int, int]
    """Paragraphs, sentences and characters."""
    line: str
    """The document's line in the release (:func:`claimwire.model.record_line`)."""
    fingerprint: Fingerprint
    detected: str | None = None
    """The language detected in the text when it is not the project's, which the document
    was given all the same (:func:`document_language`); None when they agree."""

    @classmethod
    def of(
        cls,
        file_index: int,
        raw: RawDocument,
        document: Document,
        banding: tuple[int, int] | None = None,
        detected: str | None = None,
    ) -> Built:
        sizes = (len(document.paragraphs), len(document.sentences), len(document.text))
        return cls(
            file_index,
            raw.source,
            raw.source_id,
            document.id,
            document.split,
            bool(raw.overrides.get("split")),
            sha256(document.text),
            sizes,
            record_line(document),
            fingerprint(document.text, banding=banding),
            detected,
        )

    def document(self) -> Document:
        """The document, read back from its line."""
        return Document.from_dict(json.loads(self.line))

    def in_split(self, split: str) -> Built:
        """This document in ``split``, its line made again."""
        line = record_line(replaced(self.document(), split=split))
        return dataclasses.replace(self, split=split, line=line)


@dataclass(frozen=True)
class BuildDocuments:
    """The per-document stage of ``corpus build``: read (text, HTML), segment, extract the
    metadata, identify the language, give the id and split; and fingerprint for duplicates."""

    root: Path
    segmenter: SentenceSegmenter | None = None
    banding: tuple[int, int] | None = None
    """The duplicate finder's (:attr:`DuplicateFinder.banding`): band keys made here."""
    lang: str | None = None
    """The project's language (``claimwire.toml``'s ``lang``): every document's, unless its
    input names its own (:func:`document_language`)."""

    def __call__(
        self, batch: list[tuple[int, RawDocument | Path | Unread]]
    ) -> list[Built | Unread]:
        built: list[Built | Unread] = []
        for index, item in batch:
            if isinstance(item, Unread):
                built.append(item)
                continue
            try:
                built.extend(self._built(index, item))
            except ClaimwireError as error:  # one input; the others are read all the same
                built.append(Unread(error))
        return built

    def _built(self, index: int, item: RawDocument | Path) -> list[Built]:
        built = []
        raws = read_raw(item, self.root) if isinstance(item, Path) else (item,)
        for raw in raws:
            lang, detected = document_language(raw, self.lang)
            document = build_document(raw, self.segmenter, self.root, lang=lang)
            made = Built.of(index, raw, document, self.banding, detected)
            _check_line(made.line, self.root / raw.source_file, raw.source_line)
            built.append(made)
        return built


def document_language(raw: RawDocument, declared: str | None) -> tuple[str | None, str | None]:
    """A document's language, and the one detected in its text when that differs and was
    not used. The language its input names (a JSONL line's or a sidecar's ``lang``) wins;
    else the project's declared language ``declared`` is every document's, whatever is
    detected (fastText mistakes short texts: "Le CA atteint 3,5 milliards." is detected as
    English), the disagreement returned to be counted; with no declared language, the
    detected one (None when not confident)."""
    if "lang" in raw.overrides:
        return raw.overrides["lang"], None
    detected = identify_language(raw.text)
    if declared is None:
        return detected, None
    same = detected is None or _base(detected) == _base(declared)
    return declared, None if same else detected


def _base(tag: str) -> str:
    return tag.lower().replace("_", "-").split("-")[0]


def build_document(
    raw: RawDocument,
    segmenter: SentenceSegmenter | None = None,
    root: Path | None = None,
    *,
    lang: str | EllipsisType | None = ...,
) -> Document:
    """Segment a raw document, read its metadata, and give it its id and split (an error
    names its input under ``root``, the raw folder, when given). ``lang``: the document's
    language (:func:`document_language`); not given, its input's ``lang`` or the one
    detected."""
    if (nul := raw.text.find("\x00")) >= 0:
        source = raw.source_file if root is None else root / raw.source_file
        raise ClaimwireError(
            f"NUL character at offset {nul}: not text", file=source, line=raw.source_line
        )
    paragraphs, sentences = segment(raw.text, segmenter)
    overrides = dict(raw.overrides)
    meta: dict[str, Any] = extract_metadata(raw.text, paragraphs, raw.title).to_dict()
    meta.update(
        {
            key: value.isoformat() if isinstance(value, datetime.date) else value
            for key, value in overrides.items()
            if key in OVERRIDABLE
        }
    )
    meta["date_marker"] = raw.date_marker
    meta["source_file"] = raw.source_file
    meta["source_line"] = raw.source_line
    meta["source_sha256"] = raw.source_sha256
    if raw.source_id is not None:
        meta[SOURCE_ID] = raw.source_id
    doc_id = document_id(raw.text, meta["title"])
    return Document(
        id=doc_id,
        text=raw.text,
        lang=document_language(raw, None)[0] if lang is ... else lang,
        split=overrides.get("split") or assign_split(doc_id),
        paragraphs=tuple(paragraphs),
        sentences=tuple(sentences),
        meta=meta,
    )
