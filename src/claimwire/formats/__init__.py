"""Other tools' formats, one module each: pure functions to and from an annotation set that
report what they could not carry (:class:`~claimwire.formats.base.Loss`)."""
