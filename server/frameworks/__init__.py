"""Framework packs: data that says what a good write-up contains and how to check it."""

from server.frameworks.loader import DEFAULT_FRAMEWORK, available, load_path, parse, resolve

__all__ = ["DEFAULT_FRAMEWORK", "available", "load_path", "parse", "resolve"]
