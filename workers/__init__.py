"""The Celery application: ``celery -A workers worker`` and ``celery -A workers beat``.

This module is the worker process's entry point, like a WSGI file: it builds the
Flask app (and with it the settings) once, when the worker imports it.
"""

from engpass import create_app
from workers.celery_app import make_celery

flask_app = create_app()
app = make_celery(flask_app)

__all__ = ["app", "flask_app"]
