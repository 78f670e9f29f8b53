from hub_shared.db import run_migrations
from notify.models import Base

run_migrations(Base.metadata)
