"""Errors a reviewer can act on.

Every exception here carries a message written for the person holding the file: what is wrong and
what to do. The CLI prints it on one line and exits 2; the web layer maps it to a 4xx JSON error
using `code` and `http_status`.
"""

from __future__ import annotations


class AIPrismError(Exception):
    """Base class: something the user can fix, never a bug."""

    code = "error"
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DocumentError(AIPrismError):
    """A document that cannot be reviewed."""

    code = "document_error"
    http_status = 422


class UnsupportedDocument(DocumentError):
    code = "unsupported_document"
    http_status = 415


class CorruptDocument(DocumentError):
    code = "corrupt_document"


class EncryptedDocument(DocumentError):
    code = "encrypted_document"


class NoTextLayer(DocumentError):
    code = "no_text_layer"


class DocumentTooLarge(DocumentError):
    code = "document_too_large"
    http_status = 413


class ReviewTooSlow(DocumentTooLarge):
    """Reading and reviewing one document took longer than the time limit."""

    code = "review_too_slow"
    http_status = 422


class EmptyDocument(DocumentError):
    code = "empty_document"


class InvalidSetting(AIPrismError):
    """A limit or option given in the environment or on the command line that makes no sense."""

    code = "invalid_setting"


class SettingsProblems(AIPrismError):
    """Settings that cannot work; the message lists every problem, one per line, so a person
    fixes them all in one go instead of one per restart."""

    code = "invalid_settings"

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class FrameworkError(AIPrismError):
    """A framework pack that cannot be loaded; the message names file, line and key."""

    code = "framework_error"


class UnknownFramework(FrameworkError):
    code = "unknown_framework"
    http_status = 404
