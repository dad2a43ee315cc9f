"""The hosted app: `gunicorn --config cloud/gunicorn.conf.py cloud.wsgi:app`.

Every Gunicorn worker imports this module after the fork (preload_app is off), so each builds its
own app: its own S3 client, background analysis executor and resumed analyses.
"""

from __future__ import annotations

import os

from cloud.startup import configure_logging, settings_or_exit
from server.web import create_app

configure_logging()
app = create_app(settings_or_exit(os.environ))
