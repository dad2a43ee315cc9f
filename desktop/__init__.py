"""The desktop shell: the workbench in a pywebview window around the embedded Waitress server."""
