"""planning: posting queues, recurring series and their occurrences, calendar feeds

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tiktimer.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = tiktimer.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "posting_queues",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["social_accounts.id"],
            name=op.f("fk_posting_queues_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_posting_queues")),
    )
    op.create_table(
        "queued_posts",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["social_accounts.id"],
            name=op.f("fk_queued_posts_account_id_social_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_queued_posts_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_queued_posts")),
    )
    with op.batch_alter_table("queued_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queued_posts_account_id"), ["account_id"], unique=False
        )
    op.create_table(
        "post_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rrule", sa.Text(), nullable=False),
        sa.Column("dtstart", sa.String(length=19), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("until_at", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("materialised_until", UTC_TIME, nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_post_series_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_series")),
    )
    with op.batch_alter_table("post_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_series_user_id"), ["user_id"], unique=False)
    op.create_table(
        "series_occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("occurs_at", UTC_TIME, nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("skipped_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_series_occurrences_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["post_series.id"],
            name=op.f("fk_series_occurrences_series_id_post_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_occurrences")),
        sa.UniqueConstraint(
            "series_id", "occurs_at", name=op.f("uq_series_occurrences_series_id_occurs_at")
        ),
    )
    with op.batch_alter_table("series_occurrences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_series_occurrences_post_id"), ["post_id"], unique=False
        )
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_calendar_feeds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
    )
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.create_index("ix_calendar_feeds_token_hash", ["token_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("calendar_feeds", schema=None) as batch_op:
        batch_op.drop_index("ix_calendar_feeds_token_hash")
    op.drop_table("calendar_feeds")
    with op.batch_alter_table("series_occurrences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_occurrences_post_id"))
    op.drop_table("series_occurrences")
    with op.batch_alter_table("post_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_series_user_id"))
    op.drop_table("post_series")
    with op.batch_alter_table("queued_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queued_posts_account_id"))
    op.drop_table("queued_posts")
    op.drop_table("posting_queues")
