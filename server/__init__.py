"""AI-Prism: document review workbench. The core shared by the CLI, desktop and hosted forms."""

from server.version import read_version

__version__ = read_version()
