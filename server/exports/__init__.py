"""Exports: turn a review into something a reviewer can hand on (a commented .docx, a report)."""
