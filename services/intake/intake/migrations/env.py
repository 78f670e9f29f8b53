from hub_shared.db import run_migrations
from intake.models import Base

run_migrations(Base.metadata)
