"""The outbox, the webhook log and AI profiles move to the ``integrations`` app; events keep
``product_id`` as a plain column.

Moving models: their tables (``customer_io_event_queue``, ``customer_io_webhook_log``,
``user_ai_profiles``) stay as they are; only Django's state changes here, and
``integrations.0001`` takes them over. ``engagement`` sits below ``rewards``, so
``Event.product`` loses its foreign-key constraint (and its index) but keeps every value.
"""

from django.db import migrations, models

DROP_PRODUCT_FK = """
DO $$
DECLARE c record;
BEGIN
    FOR c IN
        SELECT con.conname
          FROM pg_constraint con
          JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = ANY (con.conkey)
         WHERE con.conrelid = 'engagement_event'::regclass AND con.contype = 'f' AND att.attname = 'product_id'
    LOOP
        EXECUTE format('ALTER TABLE engagement_event DROP CONSTRAINT %I', c.conname);
    END LOOP;
    FOR c IN
        SELECT i.relname
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_attribute att ON att.attrelid = x.indrelid AND att.attnum = ANY (x.indkey)
         WHERE x.indrelid = 'engagement_event'::regclass AND x.indnatts = 1 AND att.attname = 'product_id'
    LOOP
        EXECUTE format('DROP INDEX %I', c.relname);
    END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("engagement", "0005_console_order_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="event", name="product"),
                migrations.AddField(
                    model_name="event",
                    name="product_id",
                    field=models.BigIntegerField(
                        blank=True,
                        help_text="The rewards product the event is about (seed 004 user_action_log.product_id).",
                        null=True,
                    ),
                ),
            ],
            database_operations=[migrations.RunSQL(DROP_PRODUCT_FK, migrations.RunSQL.noop)],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AIProfile"),
                migrations.DeleteModel(name="OutboxMessage"),
                migrations.DeleteModel(name="WebhookLog"),
            ],
        ),
    ]
