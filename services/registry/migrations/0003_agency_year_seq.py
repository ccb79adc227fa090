"""Index (agency, year, seq): a text search restricted to a year walks that year's documents.

Revision ID: registry_0003
Revises: registry_0002
"""

from alembic import op

revision = "registry_0003"
down_revision = "registry_0002"
branch_labels = None
depends_on = None

SCHEMA = "registry"


def upgrade() -> None:
    op.create_index(
        "documents_agency_year_seq", "documents", ["agency_code", "year", "seq"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("documents_agency_year_seq", table_name="documents", schema=SCHEMA)
