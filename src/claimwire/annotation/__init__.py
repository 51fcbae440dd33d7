"""Annotation: the label schema, French number normalization, gold resolution, guidelines."""
