"""The main file's versions (the PDF of the document itself in each state of issuing).

Revision ID: registry_0006
Revises: registry_0005

One row per stored version, ``position`` 0, 1, 2 … in the order they were added (oldest
first); the bytes are in the blob store under ``sha256``. Rows are only ever inserted: a new
scan of the draft is a new ``original`` row, the older one stays (what was signed is known).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "registry_0006"
down_revision = "registry_0005"
branch_labels = None
depends_on = None

SCHEMA = "registry"
KINDS = ("original", "person_signed", "numbered", "sealed", "received")


def upgrade() -> None:
    op.create_table(
        "file_versions",
        sa.Column(
            "document_uuid",
            pg.UUID(as_uuid=False),
            sa.ForeignKey(f"{SCHEMA}.documents.id"),
            primary_key=True,
        ),
        sa.Column("position", sa.SmallInteger, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(127), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")", name="file_versions_kind"
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="file_versions_sha256_hex"),
        sa.CheckConstraint("size_bytes > 0", name="file_versions_size"),
        sa.CheckConstraint("position >= 0", name="file_versions_position"),
        schema=SCHEMA,
    )
    # GetFile by digest looks a version up by (record, sha256).
    op.create_index(
        "file_versions_sha256", "file_versions", ["document_uuid", "sha256"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("file_versions", schema=SCHEMA)
