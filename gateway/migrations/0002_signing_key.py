"""The signing key of a signer: the hex CKA_ID of the person's key on the HSM token.

Revision ID: gateway_0002
Revises: gateway_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_0002"
down_revision = "gateway_0001"
branch_labels = None
depends_on = None

SCHEMA = "gateway"


def upgrade() -> None:
    # Nullable: only signers (lãnh đạo) have a personal key, and they get it after the account.
    op.add_column("users", sa.Column("signing_key_id", sa.String(128)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("users", "signing_key_id", schema=SCHEMA)
