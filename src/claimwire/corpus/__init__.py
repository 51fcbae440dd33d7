"""The versioned corpus: ingest, segmentation, releases, validation and diffs."""
