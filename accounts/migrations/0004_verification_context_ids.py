"""Verification tokens keep the experiment context as plain UUID columns (seed 002).

``accounts`` is the lowest app: it holds no foreign key to ``experiments``. The columns
``experiment_id``, ``variant_id`` and ``impression_id`` keep their names and values; only
the foreign-key constraints and their indexes go.
"""

from django.db import migrations, models

COLUMNS = ("experiment_id", "variant_id", "impression_id")

DROP_CONSTRAINTS = """
DO $$
DECLARE c record;
BEGIN
    FOR c IN
        SELECT con.conname
          FROM pg_constraint con
          JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
         WHERE con.conrelid = 'email_verification_tokens'::regclass AND con.contype = 'f'
           AND att.attname IN ('experiment_id', 'variant_id', 'impression_id')
    LOOP
        EXECUTE format('ALTER TABLE email_verification_tokens DROP CONSTRAINT %I', c.conname);
    END LOOP;
    FOR c IN
        SELECT i.relname
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_attribute att ON att.attrelid = x.indrelid AND att.attnum = ANY (x.indkey)
         WHERE x.indrelid = 'email_verification_tokens'::regclass AND x.indnatts = 1
           AND att.attname IN ('experiment_id', 'variant_id', 'impression_id')
    LOOP
        EXECUTE format('DROP INDEX %I', c.relname);
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_verification_custom_fields")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *[migrations.RemoveField(model_name="emailverificationtoken", name=c[: -len("_id")]) for c in COLUMNS],
                *[
                    migrations.AddField(
                        model_name="emailverificationtoken", name=c, field=models.UUIDField(blank=True, null=True)
                    )
                    for c in COLUMNS
                ],
            ],
            database_operations=[migrations.RunSQL(DROP_CONSTRAINTS, migrations.RunSQL.noop)],
        ),
    ]
