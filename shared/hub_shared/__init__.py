"""The hub's shared package: event contracts, the bus, config, Celery defaults, the hub command."""
