"""Errors raised by text extraction."""


class ExtractionError(Exception):
    """Raised when a fetched body cannot be turned into text, from the extractors.

    `kind` names the failure for the fetch log: "content" (wrong or empty content),
    "extract" (malformed, truncated or encrypted file), "selector" (the configured selector
    matched nothing: a tracking failure, never "all text removed").
    """

    def __init__(self, message: str, kind: str = "extract") -> None:
        super().__init__(message)
        self.kind = kind
