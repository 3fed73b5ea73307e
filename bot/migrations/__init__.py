"""Alembic migrations of the social store."""
