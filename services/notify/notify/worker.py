"""The Celery worker's entry point: `celery -A notify.worker worker --queues notify`."""

from notify import (
    create_app,
    tasks,  # noqa: F401  (registers the tasks)
)

flask_app = create_app()
celery = flask_app.extensions["celery"]
