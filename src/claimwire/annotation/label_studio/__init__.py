"""Label Studio: labeling configs from the schema, converters, and the project round trip."""
