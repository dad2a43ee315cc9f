"""What a failed Bedrock call means for the fallback chain: this model, this request, or every call.

botocore has already retried what it can (adaptive mode) by the time one of these errors reaches
the engine, so each is final for the model that raised it. Reasons are short and written for the
reviewer's notice; the AWS message goes to the log.
"""

from __future__ import annotations

import logging

from server.engines.providers.base import ModelFailed, RequestFailed, StopCalling

log = logging.getLogger(__name__)

_CREDENTIAL_ERRORS = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "TokenRetrievalError",
    "SSOTokenLoadError",
    "UnauthorizedSSOTokenError",
    "ProfileNotFound",
)
_CREDENTIAL_CODES = (
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "ExpiredToken",
    "InvalidClientTokenId",
    "IncompleteSignature",
)
_MODEL_ACCESS_WORDS = (
    "model identifier",
    "model id",
    "on-demand throughput",
    "inference profile",
    "not authorized",
    "don't have access",
    "do not have access",
    "access to the model",
    "use case details",
)


def classify(exc: Exception, read_timeout: float) -> ModelFailed:
    """A botocore error as a short reason, and how far it reaches: model, request or everything.

    Anything that is not a botocore error is a bug, not an outage, and is raised again as it is.
    """
    import botocore.exceptions as bce

    kind = type(exc).__name__
    credentials = tuple(getattr(bce, name) for name in _CREDENTIAL_ERRORS if hasattr(bce, name))
    if isinstance(exc, credentials):
        return StopCalling(
            f"AWS credentials are not usable: {exc}. Configure them with 'aws configure' or "
            "'aws sso login', or choose an AWS profile in settings"
        )
    if isinstance(exc, bce.NoRegionError):
        return StopCalling("no AWS region is configured; set one in settings")
    if isinstance(exc, bce.ReadTimeoutError):
        return ModelFailed(f"no answer within {read_timeout:g} s")
    if isinstance(exc, bce.ConnectTimeoutError | bce.EndpointConnectionError):
        return ModelFailed("Bedrock could not be reached")
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        log.info("Bedrock answered HTTP %s %s: %s", status, code, message)
        if code in _CREDENTIAL_CODES:
            return StopCalling(
                f"AWS rejected the credentials ({code}); configure valid AWS credentials"
            )
        if code in ("ThrottlingException", "ModelNotReadyException"):
            return ModelFailed("throttled by Bedrock")
        if code in ("AccessDeniedException", "ResourceNotFoundException") or (
            code == "ValidationException" and any(w in message.lower() for w in _MODEL_ACCESS_WORDS)
        ):
            return ModelFailed("model not enabled for this account or region")
        if code == "ValidationException":
            return RequestFailed(f"Bedrock refused the request: {message[:160]}")
        if code in ("ModelTimeoutException", "ModelErrorException"):
            return ModelFailed(f"the model failed ({code})")
        if status >= 500:
            return ModelFailed(f"Bedrock service error (HTTP {status})")
        return ModelFailed(f"Bedrock error {code or status}: {message[:160]}")
    if isinstance(exc, bce.BotoCoreError):
        return ModelFailed(f"Bedrock call failed ({kind})")
    raise exc
