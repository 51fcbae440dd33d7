"""INCEpTION / WebAnno: UIMA CAS XMI with a type system generated from the schema (dkpro-cassis).

INCEpTION's custom layers are types named ``webanno.custom.<Layer>``: a span layer is a
``uima.tcas.Annotation`` subtype whose features are the tag and the attributes; a relation
layer is one with ``Governor`` and ``Dependent`` features pointing at the span layer it is
attached to (its begin and end are the dependent's). INCEpTION attaches a relation layer to
one span layer, while our relations link labels of different schema layers (a CLAIM to a
SOURCE), so the export has one span layer ``webanno.custom.Claimwire`` (``label`` + every span
attribute; booleans as Boolean, everything else as String) and one relation layer
``webanno.custom.ClaimwireRelation`` (``label`` + ``quote_type`` + ``cue``, a reference to
the CUE span). Sentences, tokens (spaCy's French tokenizer) and DocumentMetaData use DKPro
Core's types, as INCEpTION's importer expects. XMI offsets are UTF-16 code units; cassis
converts them to and from Python's code points.

XMI is XML 1.0, which cannot hold the C0 control characters but tab, LF and CR (a form feed
from a PDF turned into text), nor U+FFFE/U+FFFF or lone surrogates: each is written as a space,
one character for one, so every offset holds, and reported (``control-character``, a loss per
document); the import takes such a text for the document's own.

Document-level items are losses. An import reads a span of any other layer whose feature
holds a span label of the schema (INCEpTION's built-in Named Entity layer, its ``value``
CLAIM), a relation of any other layer whose feature holds a relation type between spans read,
and reports every other annotation by its type, but UIMA's own and DKPro's segmentation and
metadata types. An ``xmi:id`` two elements share is a located error, found before cassis reads
the file (cassis keeps the later element and drops the other unsaid).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from claimwire.annotation.schema import Schema
from claimwire.errors import shown
from claimwire.formats.base import (
    DocumentLookup,
    FileStems,
    Imported,
    Loss,
    Place,
    by_document,
    file_names,
    span_annotation,
)
from claimwire.formats.conll import sentence_tokens
from claimwire.model import Annotation, Document, Relation

SPAN = "webanno.custom.Claimwire"
RELATION = "webanno.custom.ClaimwireRelation"
SENTENCE = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence"
TOKEN = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token"
METADATA = "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.DocumentMetaData"
TYPESYSTEM = "TypeSystem.xml"
STRING, BOOLEAN = "uima.cas.String", "uima.cas.Boolean"
LABEL = "label"
XMI_ID = "http://www.omg.org/XMI id"
"""The ``xmi:id`` attribute, as expat names it (namespace, a space, local name)."""
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""A character XML 1.0 cannot hold."""


def xml_text(text: str) -> str:
    """``text`` with each character XML 1.0 cannot hold as a space (the same length)."""
    return NOT_XML.sub(" ", text)


_NAMES = {"\f": " (form feed)", "\v": " (vertical tab)", "\x00": " (NUL)"}


def _not_xml(document: Document) -> Loss | None:
    """The loss of a document whose text holds characters XML 1.0 cannot hold, or None."""
    found = NOT_XML.search(document.text)
    if found is None:
        return None
    count = sum(1 for _ in NOT_XML.finditer(document.text))
    first = f"U+{ord(found.group()):04X}{_NAMES.get(found.group(), '')}"
    return Loss(
        "control-character",
        document.id,
        f"{count} character(s) XML 1.0 cannot hold written as spaces (offsets kept), the "
        f"first {first} at offset {found.start()}",
    )


def span_features(schema: Schema) -> dict[str, str]:
    """Every span attribute and its UIMA range (Boolean when it is boolean wherever used)."""
    kinds: dict[str, set[str]] = {}
    for label in schema.labels.values():
        if label.is_span:
            for attribute in label.attributes.values():
                kinds.setdefault(attribute.name, set()).add(attribute.type)
    return {name: BOOLEAN if types == {"boolean"} else STRING for name, types in kinds.items()}


def type_system(schema: Schema) -> Any:
    """The UIMA type system INCEpTION imports: DKPro segmentation + our two custom layers."""
    from cassis import TypeSystem

    ts = TypeSystem()
    ts.create_type(SENTENCE)
    ts.create_type(TOKEN)
    metadata = ts.create_type(METADATA, supertypeName="uima.tcas.DocumentAnnotation")
    for name in ("documentTitle", "documentId", "documentUri", "collectionId", "documentBaseUri"):
        ts.create_feature(metadata, name, STRING)
    ts.create_feature(metadata, "isLastSegment", BOOLEAN)
    span = ts.create_type(SPAN, description=f"claimwire schema {schema.name} {schema.version}")
    ts.create_feature(span, LABEL, STRING)
    for name, range_type in span_features(schema).items():
        ts.create_feature(span, name, range_type)
    relation = ts.create_type(RELATION)
    ts.create_feature(relation, "Governor", SPAN)
    ts.create_feature(relation, "Dependent", SPAN)
    ts.create_feature(relation, LABEL, STRING)
    ts.create_feature(relation, "quote_type", STRING)
    ts.create_feature(relation, "cue", SPAN)
    return ts


def to_cas(
    document: Document,
    annotations: Iterable[Annotation],
    relations: Iterable[Relation],
    ts: Any,
) -> tuple[Any, list[Loss]]:
    """One document as a CAS, and what it could not carry."""
    from cassis import Cas

    cas = Cas(typesystem=ts)
    cas.sofa_string = xml_text(document.text)
    cas.sofa_mime = "text/plain"
    types = {name: ts.get_type(name) for name in (SENTENCE, TOKEN, METADATA, SPAN, RELATION)}
    cas.add(
        types[METADATA](
            begin=0,
            end=len(document.text),
            language=document.lang or "x-unspecified",
            documentId=xml_text(document.id),
            documentTitle=xml_text(str(document.meta.get("title") or document.id)),
        )
    )
    for start, end in document.sentences:
        cas.add(types[SENTENCE](begin=start, end=end))
    for sentence in sentence_tokens(document):
        cas.add_all([types[TOKEN](begin=s, end=e) for _, s, e in sentence])
    losses = [loss for loss in [_not_xml(document)] if loss is not None]
    spans: dict[str, Any] = {}
    features = {f.name for f in types[SPAN].all_features}
    for annotation in annotations:
        if not annotation.is_span:
            losses.append(Loss("document-item", annotation.id, annotation.label))
            continue
        values = {k: v for k, v in annotation.attributes.items() if v is not None}
        values = {k: v if isinstance(v, bool) else str(v) for k, v in values.items()}
        changed = [k for k, v in values.items() if isinstance(v, str) and NOT_XML.search(v)]
        losses += [Loss("control-character", annotation.id, name) for name in changed]
        values |= {k: xml_text(str(values[k])) for k in changed}
        unknown = [k for k in values if k not in features]
        losses += [Loss("attribute", annotation.id, name) for name in unknown]
        fs = types[SPAN](
            begin=annotation.start,
            end=annotation.end,
            label=annotation.label,
            **{k: v for k, v in values.items() if k not in unknown},
        )
        cas.add(fs)
        spans[annotation.id] = fs
    for relation in relations:
        if relation.head not in spans or relation.tail not in spans:
            losses.append(Loss("relation", relation.id, f"{relation.type}: an end is not a span"))
            continue
        dependent = spans[relation.tail]
        attributes = dict(relation.attributes)
        cue = spans.get(str(attributes.pop("cue", None)))
        quote_type = attributes.pop("quote_type", None)
        losses += [Loss("relation-attribute", relation.id, name) for name in attributes]
        cas.add(
            types[RELATION](
                begin=dependent.begin,
                end=dependent.end,
                Governor=spans[relation.head],
                Dependent=dependent,
                label=relation.type,
                quote_type=quote_type,
                cue=cue,
            )
        )
    return cas, losses


def write_cas_folder(
    folder: Path,
    documents: Iterable[Document],
    annotations: Iterable[Annotation],
    relations: Iterable[Relation],
    schema: Schema,
    stems: FileStems | None = None,
) -> list[Loss]:
    """``TypeSystem.xml`` and one ``DOC.xmi`` per document (INCEpTION's UIMA CAS XMI);
    ``stems``: the folder's stems so far, when documents come in several calls."""
    ts = type_system(schema)
    (folder / TYPESYSTEM).write_text(ts.to_xml(), encoding="utf-8")
    by_doc, links = by_document(annotations, relations)
    losses: list[Loss] = []
    stems = stems or FileStems(folder, ".xmi")
    for document in documents:
        stem = stems(document.id)
        cas, lost = to_cas(document, by_doc.get(document.id, []), links.get(document.id, []), ts)
        cas.to_xmi(folder / f"{stem}.xmi")
        losses += lost
    return losses


def from_cas(
    cas: Any,
    documents: DocumentLookup,
    schema: Schema,
    path: Path,
    author: str,
    out: Imported,
) -> list[str]:
    """Our records from one CAS (its document by DocumentMetaData's id, else by file name,
    else by text)."""
    metadata = (
        next(iter(cas.select(METADATA)), None) if cas.typesystem.contains_type(METADATA) else None
    )
    doc_id = getattr(metadata, "documentId", None) or path.stem
    document = (
        documents.by_id(str(doc_id))
        or documents.by_stem(path.stem)
        or documents.by_text(cas.sofa_string)
    )
    if document is None:
        return [f"{path}: document {doc_id!r} is not a document of the release"]
    if cas.sofa_string != xml_text(document.text):  # the export's spaces are the text's own
        mismatch = documents.texts.problem(str(path), cas.sofa_string, document)
        if mismatch is not None:
            return [f"{path}: the CAS text is {mismatch}"]
    out.meet(document.id, Place(path))
    _CasReader(document, schema, path, author, out).read(cas)
    return []


NOT_ANNOTATIONS = (
    "uima.",
    "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.",
    "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.",
)
"""The prefixes of the types an import neither reads nor reports: UIMA's own, DKPro's
segmentation (sentences, tokens) and metadata."""
LABEL_FEATURES = ("value", LABEL)
"""The features read first for a span label on another layer: DKPro's tag (NamedEntity's
``value``), then ours."""


@dataclass(slots=True)
class _CasReader:
    """One CAS's records: spans of our layer, spans of any other layer whose feature holds a
    span label of the schema (INCEpTION's Named Entity layer: ``value``), relations of our
    relation layer, and of any other whose feature holds a relation type; every other
    annotation is a loss named by its type."""

    document: Document
    schema: Schema
    path: Path
    author: str
    out: Imported
    ids: dict[int, str] = field(default_factory=dict)
    """Each span read: its XMI id and its record's id."""
    found: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each type's features but begin, end and sofa, in the type system's order."""

    def read(self, cas: Any) -> None:
        for fs in cas.select(SPAN) if cas.typesystem.contains_type(SPAN) else []:
            self.span(fs, LABEL)
        links = []
        for fs in cas.select_all_annotations():
            name = fs.type.name
            if fs.xmiID in self.ids or name == RELATION or name.startswith(NOT_ANNOTATIONS):
                continue
            if {"Governor", "Dependent"} <= set(self.features(fs.type)):
                links.append(fs)  # once every span is read
            elif (found := self.tag(fs, self.is_span_label)) is not None:
                self.span(fs, found)
            else:
                self.lose(fs, f"{self.tags(fs)}: not a span label of the schema")
        for fs in cas.select(RELATION) if cas.typesystem.contains_type(RELATION) else []:
            self.relation(fs)
        for fs in links:
            self.other_relation(fs)

    def lose(self, fs: Any, detail: str) -> None:
        """``fs`` not carried: a loss named by its type."""
        self.out.losses.append(Loss(f"layer {fs.type.name}", f"{self.path}:{fs.xmiID}", detail))

    def features(self, type_: Any) -> tuple[str, ...]:
        found = self.found.get(type_.name)
        if found is None:
            names = (f.name for f in type_.all_features)
            found = tuple(n for n in names if n not in {"begin", "end", "sofa"})
            self.found[type_.name] = found
        return found

    def is_span_label(self, value: str) -> bool:
        return value in self.schema.labels and self.schema.labels[value].is_span

    def tag(self, fs: Any, known: Callable[[str], bool]) -> str | None:
        """The feature of ``fs`` whose value is ``known`` (those of :data:`LABEL_FEATURES`
        first, then the others in order), or None."""
        features = self.features(fs.type)
        first = [name for name in LABEL_FEATURES if name in features]
        for name in [*first, *(n for n in features if n not in LABEL_FEATURES)]:
            value = fs.get(name)
            if isinstance(value, str) and known(value):
                return name
        return None

    def tags(self, fs: Any) -> str:
        """What ``fs``'s :data:`LABEL_FEATURES` hold, for a loss."""
        tags = [f"{n}={shown(fs.get(n))}" for n in LABEL_FEATURES if fs.get(n) is not None]
        return ", ".join(tags) or "no feature"

    def span(self, fs: Any, label_feature: str) -> None:
        """The span ``fs``, its label in ``label_feature``: each other feature set on it is an
        attribute of the label, or a loss."""
        label = str(fs.get(label_feature) or "")
        attributes: dict[str, Any] = {}
        for name in self.features(fs.type):  # the type system's order: the same keys each run
            value = fs.get(name)
            if name == label_feature or value is None:
                continue
            attribute = self.schema.attribute(label, name)
            if attribute is None:
                where = f"{self.path}:{fs.xmiID}"
                self.out.losses.append(Loss("attribute", where, f"{label} has no {name!r}"))
                continue
            attributes[name] = value if attribute.type != "boolean" else bool(value)
        document = self.document
        ann_id = f"{document.id}:{self.author}-{fs.xmiID}"
        self.ids[fs.xmiID] = ann_id
        layer = self.schema.labels[label].layer if label in self.schema.labels else ""
        annotation = span_annotation(
            ann_id,
            document.id,
            layer,
            label,
            document.text,
            fs.begin,
            fs.end,
            self.author,
            attributes,
        )
        self.out.annotations.append((self.path, fs.xmiID, annotation))

    def relation(self, fs: Any) -> None:
        """The relation ``fs`` of our relation layer, or a loss when an end is not a span."""
        head = self.ids.get(getattr(fs.get("Governor"), "xmiID", -1))
        tail = self.ids.get(getattr(fs.get("Dependent"), "xmiID", -1))
        if head is None or tail is None:
            self.out.losses.append(Loss("relation", f"{self.path}:{fs.xmiID}", "an end is missing"))
            return
        attributes = {}
        if fs.get("quote_type"):
            attributes["quote_type"] = fs.get("quote_type")
        cue = fs.get("cue")
        if cue is not None and cue.xmiID in self.ids:
            attributes["cue"] = self.ids[cue.xmiID]
        elif cue is not None:
            where = f"{self.path}:{fs.xmiID}"
            detail = f"cue: xmi:id {cue.xmiID} ({cue.type.name}) is not a span read"
            self.out.losses.append(Loss("relation-attribute", where, detail))
        self.add_relation(fs, str(fs.get(LABEL)), head, tail, attributes)

    def other_relation(self, fs: Any) -> None:
        """A relation of another layer whose feature holds a relation type of the schema,
        between spans read: each other feature set on it is an attribute of the type (a
        span it points to: that span's id), or a loss; else ``fs`` is a loss."""
        found = self.tag(fs, lambda value: value in self.schema.relations)
        head = self.ids.get(getattr(fs.get("Governor"), "xmiID", -1))
        tail = self.ids.get(getattr(fs.get("Dependent"), "xmiID", -1))
        if found is None or head is None or tail is None:
            why = "an end is not a span read" if found else "not a relation type of the schema"
            self.lose(fs, f"a relation, {self.tags(fs)}: {why}")
            return
        kind = fs.get(found)
        attributes: dict[str, Any] = {}
        for name in self.features(fs.type):
            value = fs.get(name)
            if name in (found, "Governor", "Dependent") or value is None:
                continue
            if hasattr(value, "xmiID"):  # a span
                value = self.ids.get(value.xmiID)
            if name not in self.schema.relations[kind].attributes or value is None:
                where = f"{self.path}:{fs.xmiID}"
                self.out.losses.append(Loss("relation-attribute", where, f"{kind}: {name}"))
                continue
            attributes[name] = value
        self.add_relation(fs, kind, head, tail, attributes)

    def add_relation(
        self, fs: Any, kind: str, head: str, tail: str, attributes: dict[str, Any]
    ) -> None:
        relation = Relation(
            f"{self.document.id}:{self.author}-rel-{fs.xmiID}",
            self.document.id,
            kind,
            head,
            tail,
            attributes,
            self.author,
        )
        self.out.relations.append((self.path, fs.xmiID, relation))


class _Repeated(Exception):
    """An ``xmi:id`` met twice: where (line and column) it was first and again."""

    def __init__(self, xmi_id: str, first: tuple[int, int], again: tuple[int, int]) -> None:
        super().__init__(xmi_id)
        self.xmi_id, self.first, self.again = xmi_id, first, again


def repeated_id(path: Path) -> str | None:
    """The located problem of an XMI file that gives two elements one ``xmi:id`` (cassis
    keeps the later one and drops the other unsaid), or None; a file that is not XML is
    left to cassis to name. Read by expat a buffer at a time, no tree built (it fetches no
    external entity and refuses one expanding past its limits)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    first: dict[str, tuple[int, int]] = {}

    def start(name: str, attributes: dict[str, str]) -> None:
        xmi_id = attributes.get(XMI_ID)
        if xmi_id is None:
            return
        here = (parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        if xmi_id in first:
            raise _Repeated(xmi_id, first[xmi_id], here)
        first[xmi_id] = here

    parser.StartElementHandler = start
    try:
        with path.open("rb") as handle:
            parser.ParseFile(handle)
    except expat.ExpatError:
        return None
    except _Repeated as repeated:
        (line, column), (first_line, first_column) = repeated.again, repeated.first
        return (
            f"{path}:{line}:{column}: duplicate xmi:id {shown(repeated.xmi_id)} (first at "
            f"line {first_line}, column {first_column}): one element would be dropped"
        )
    return None


_UNMAPPED = re.compile(r"Not mapping external offset \[(-?\d+)\]")
"""cassis's warning for a UTF-16 offset that is no character's boundary (kept unmapped)."""


def inside_characters(path: Path, text: str, warned: Iterable[str]) -> list[str]:
    """The located problems of an XMI file whose elements' ``begin`` or ``end`` falls inside
    a character of ``text`` (between the two UTF-16 units of an astral one): the offsets
    cassis ``warned`` it could not map (it keeps them, as code points: a span moved). An
    offset outside the text is left to the range checks. The file is read again (expat, a
    buffer at a time) only when there is one, to name the elements and their lines."""
    units = len(text.encode("utf-16-le")) // 2
    found = (_UNMAPPED.search(message) for message in warned)
    inside = {int(m[1]) for m in found if m is not None and 0 <= int(m[1]) <= units}
    if not inside:
        return []
    parser = expat.ParserCreate(namespace_separator=" ")
    problems: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        for key in ("begin", "end"):
            value = attributes.get(key, "")
            if value.isdigit() and int(value) in inside:
                problems.append(
                    f"{path}:{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}: "
                    f"{name.rpartition(' ')[2]} xmi:id "
                    f"{shown(attributes.get(XMI_ID))}: {key} {value} falls inside a character "
                    "(a UTF-16 surrogate pair)"
                )

    parser.StartElementHandler = start
    with path.open("rb") as handle:
        parser.ParseFile(handle)
    return problems


def _fault(error: Exception) -> str:
    """What cassis's ``error`` says, in words (a reference to no element is a bare id)."""
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], int):
        return f"a reference to xmi:id {error.args[0]}, which no element of the file has"
    return str(error)


def read_cas_folder(
    folder: Path, documents: Mapping[str, Document], schema: Schema, author: str
) -> Iterator[Imported]:
    """Every ``*.xmi`` of a folder, with the folder's ``TypeSystem.xml``, one file's records
    at a time."""
    from cassis import load_cas_from_xmi, load_typesystem

    typesystem = folder / TYPESYSTEM
    if not typesystem.exists():
        found = f"{typesystem}: not found (INCEpTION's UIMA CAS XMI export has it)"
        yield Imported(problems=[found])
        return
    out = Imported()
    lookup = DocumentLookup(documents)
    try:
        with typesystem.open("rb") as handle:
            ts = load_typesystem(handle)
    except Exception as error:  # cassis raises bare exceptions on malformed XML
        yield Imported(problems=[f"{typesystem}: not a UIMA type system: {error}"])
        return
    for name in file_names(folder, ".xmi"):
        yield out.take()
        xmi = folder / name
        if (repeated := repeated_id(xmi)) is not None:
            out.problems.append(repeated)
            continue
        try:
            with warnings.catch_warnings(record=True) as warned, xmi.open("rb") as handle:
                warnings.simplefilter("always")  # cassis's, on offsets it cannot map
                cas = load_cas_from_xmi(handle, typesystem=ts)
        except Exception as error:  # idem
            out.problems.append(f"{xmi}: not a CAS XMI for this type system: {_fault(error)}")
            continue
        messages = (str(warning.message) for warning in warned)
        if inside := inside_characters(xmi, cas.sofa_string or "", messages):
            out.problems += inside
            continue
        out.problems += from_cas(cas, lookup, schema, xmi, author, out)
    yield out.take()
