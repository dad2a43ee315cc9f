"""AI-Prism: document review workbench. The core shared by the CLI, desktop and hosted forms."""

from functools import cache


def __getattr__(name: str) -> str:
    """`server.__version__`, read on first use: an installed wheel reads it from its metadata
    (importing importlib.metadata, a tenth of a short `aiprism review`), which a review does not
    need."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'server' has no attribute {name!r}")


@cache
def _version() -> str:
    from server.version import read_version

    return read_version()
