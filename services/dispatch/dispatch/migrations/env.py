from dispatch.models import Base
from hub_shared.db import run_migrations

run_migrations(Base.metadata)
