"""``accounts_default_brand_id()``: the default brand's id, as an SQL function.

The history tables' ``brand_id`` columns default to it, so every writer — ORM inserts, raw
upserts, ``COPY`` — fills the column in the same statement without naming it, and adding such a
column fills existing rows without rewriting the table (PostgreSQL evaluates a non-volatile default
once). It reads ``accounts_brand`` by the default slug (``accounts.models.DEFAULT_BRAND_SLUG``).
"""

from django.db import migrations

CREATE = """
CREATE FUNCTION accounts_default_brand_id() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT id FROM accounts_brand WHERE slug = 'focusedroom' $$;
"""

DROP = "DROP FUNCTION IF EXISTS accounts_default_brand_id();"


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_action_tokens_email_changes_sessions")]

    operations = [migrations.RunSQL(CREATE, DROP)]
