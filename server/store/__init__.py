"""Persistence behind one interface: SQLite on a single host, S3 when hosted."""

from server.store.base import Event, ReviewStore, StoreConflict

__all__ = ["Event", "ReviewStore", "StoreConflict"]
