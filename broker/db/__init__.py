"""Storage: SQLAlchemy 2 typed models, the engine/session factory and Alembic migrations."""
