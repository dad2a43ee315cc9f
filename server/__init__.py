"""AI-Prism: document review workbench. The core shared by the CLI, desktop and hosted forms."""

__version__ = "0.1.0"
