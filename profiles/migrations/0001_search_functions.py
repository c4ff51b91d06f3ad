"""SQL function the full-text search columns need (created before the tables).

``array_to_string`` is STABLE (it calls the element type's output function), so it
cannot appear in a generated column. For ``text[]`` the result never depends on a
setting, so this wrapper is declared IMMUTABLE and the search vectors use it.
"""

from django.db import migrations

IMMUTABLE_ARRAY_TO_STRING = """
CREATE OR REPLACE FUNCTION profiles_immutable_array_to_string(text[], text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT array_to_string($1, $2) $$;
"""


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [
        migrations.RunSQL(
            IMMUTABLE_ARRAY_TO_STRING,
            reverse_sql="DROP FUNCTION IF EXISTS profiles_immutable_array_to_string(text[], text);",
        ),
    ]
