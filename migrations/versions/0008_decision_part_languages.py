"""The accepted part of a decision, per language like its justification.

`decision_part` on comments and on their decision history was one string; it becomes a per-language
object ({"ky": "…", "ru": "…"}). An existing text is kept under the language of the comment it was
written about: the author reads the decision in that language, and a "partly accepted" now needs its part
in the comment's language, so a migrated decision stays valid when it is saved again unchanged.
Downgrading keeps the text in the comment's language, else Russian, else any language that has one.

Revision ID: 0008_decision_part_languages
Revises: 0007_place_holds
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_decision_part_languages"
down_revision = "0007_place_holds"
branch_labels = None
depends_on = None

TABLES = ("comments", "comment_decision_changes")
LOCALIZED = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _language_and_part(table: str, part_type):
    """(row id, the comment's language, decision_part) of every row of `table`."""
    comments = sa.table(
        "comments", sa.column("id"), sa.column("language"), sa.column("decision_part", part_type)
    )
    if table == "comments":
        return sa.select(comments.c.id, comments.c.language, comments.c.decision_part)
    changes = sa.table(
        "comment_decision_changes",
        sa.column("id"),
        sa.column("comment_id"),
        sa.column("decision_part", part_type),
    )
    return sa.select(changes.c.id, comments.c.language, changes.c.decision_part).join(
        comments, comments.c.id == changes.c.comment_id
    )


def _write(table: str, column: str, column_type, values: list[dict]) -> None:
    if not values:
        return
    target = sa.table(table, sa.column("id"), sa.column(column, column_type))
    op.get_bind().execute(
        target.update().where(target.c.id == sa.bindparam("row_id")).values({column: sa.bindparam("value")}),
        values,
    )


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("decision_part_texts", LOCALIZED, nullable=True))
        values = []
        for row_id, language, part in bind.execute(_language_and_part(table, sa.Text())).all():
            text = (part or "").strip()
            values.append({"row_id": row_id, "value": {language or "ru": text} if text else {}})
        _write(table, "decision_part_texts", LOCALIZED, values)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("decision_part")
            batch.alter_column(
                "decision_part_texts", new_column_name="decision_part", existing_type=LOCALIZED, nullable=False
            )


def _one_text(texts: dict | None, language: str | None) -> str | None:
    texts = {code: text for code, text in (texts or {}).items() if text}
    for code in (language, "ru"):
        if code in texts:
            return texts[code]
    return next(iter(texts.values()), None)


def downgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("decision_part_text", sa.Text(), nullable=True))
        values = []
        for row_id, language, texts in bind.execute(_language_and_part(table, LOCALIZED)).all():
            values.append({"row_id": row_id, "value": _one_text(texts, language)})
        _write(table, "decision_part_text", sa.Text(), values)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("decision_part")
            batch.alter_column("decision_part_text", new_column_name="decision_part", existing_type=sa.Text())
