"""A Croissant 1.0 description of the exported dataset (validated offline by mlcroissant)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datasets import ClassLabel, Features, List, Value

from claimwire.corpus.release import Release
from claimwire.hub.tables import Table

CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
_TYPES = {
    "string": "sc:Text",
    "bool": "sc:Boolean",
    "float64": "sc:Float",
    "int32": "sc:Integer",
    "int64": "sc:Integer",
}


def _field(record: str, path: str, name: str, feature: Any, file_set: str) -> dict[str, Any]:
    field_id = f"{record}/{path}"
    entry: dict[str, Any] = {"@type": "cr:Field", "@id": field_id, "name": name}
    inner = feature.feature if isinstance(feature, List) else feature
    if isinstance(feature, List):
        entry["repeated"] = True
    if isinstance(inner, dict):
        entry["subField"] = [
            _field(record, f"{path}/{key}", key, value, file_set) for key, value in inner.items()
        ]
    elif isinstance(inner, ClassLabel):
        entry["dataType"] = "sc:Integer"
        entry["description"] = "Class index: " + ", ".join(
            f"{i} = {n}" for i, n in enumerate(inner.names)
        )
    elif isinstance(inner, Value):
        entry["dataType"] = _TYPES.get(inner.dtype, "sc:Text")
    entry["source"] = {"fileSet": {"@id": file_set}, "extract": {"column": path.split("/")[0]}}
    if "/" in path:
        entry["source"]["extract"] = {"jsonPath": "$." + ".".join(path.split("/")[1:])}
    return entry


def croissant(
    release: Release,
    tables: list[Table],
    checksums: Mapping[str, str],
    toolkit: str,
    repo_id: str | None = None,
) -> dict[str, Any]:
    distribution: list[dict[str, Any]] = [
        {
            "@type": "cr:FileObject",
            "@id": path,
            "name": path,
            "contentUrl": path,
            "encodingFormat": "application/x-parquet",
            "sha256": digest,
        }
        for path, digest in sorted(checksums.items())
    ]
    record_sets = []
    for table in tables:
        file_set = f"parquet-{table.config}"
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": file_set,
                "name": file_set,
                "encodingFormat": "application/x-parquet",
                "includes": f"data/{table.config}/*.parquet",
            }
        )
        features: Features = table.features
        record_sets.append(
            {
                "@type": "cr:RecordSet",
                "@id": table.config,
                "name": table.config,
                "description": table.description,
                "field": [
                    _field(table.config, name, name, feature, file_set)
                    for name, feature in features.items()
                ],
            }
        )
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": "claimwire",
        "description": "Claims, their sources and the survey statistics behind them in wire "
        "press releases, with stance; gold annotation by the claimwire guidelines.",
        "version": release.version,
        "license": "Press releases: their issuers' property, not relicensed (see the card). "
        "Annotations: Apache-2.0.",
        "citeAs": f"claimwire corpus, release {release.version} (claimwire {toolkit}).",
        "datePublished": str(release.manifest.get("created", ""))[:10],
        "distribution": distribution,
        "recordSet": record_sets,
    }
    if repo_id:
        document["url"] = f"https://huggingface.co/datasets/{repo_id}"
    return document
