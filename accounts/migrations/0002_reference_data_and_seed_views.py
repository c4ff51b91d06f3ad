"""Reference rows (channels 1–3, the default brand) and seed 000's ``customer`` view.

``channel_details`` is the Channel table itself. ``customer`` is a view over
``accounts_user`` (non-staff, not soft-deleted) with seed 000's column names, so the
seed's verification SQL runs unchanged. A migration that alters a column used by the
view must drop and re-create the view around the change.
"""

from django.db import migrations

CHANNELS = [
    (1, "Big Five Test", "Customer acquired through personality test"),
    (2, "eBook Download", "Customer acquired through eBook download"),
    (3, "Mobile App", "Customer acquired through mobile app"),
]

CUSTOMER_VIEW = """
CREATE VIEW customer AS
SELECT u.id                AS customer_id,
       u.email             AS email_id,
       NULLIF(u.name, '')  AS name,
       u.age               AS age,
       NULLIF(u.profession, '')   AS profession,
       NULLIF(u.career_stage, '') AS career_stage,
       NULLIF(u.purpose, '')      AS purpose,
       u.channel_id        AS channel_id,
       u.created_at        AS create_dt,
       u.marketing_opt_in  AS opt_in
  FROM accounts_user u
 WHERE NOT u.is_staff AND u.deleted_at IS NULL;
"""


def add_reference_rows(apps, schema_editor):
    Channel = apps.get_model("accounts", "Channel")
    Brand = apps.get_model("accounts", "Brand")
    for pk, name, description in CHANNELS:
        Channel.objects.update_or_create(pk=pk, defaults={"name": name, "description": description})
    Brand.objects.get_or_create(
        slug="focusedroom",
        defaults={"name": "FocusedRoom", "settings": {}, "is_active": True},
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(add_reference_rows, migrations.RunPython.noop),
        migrations.RunSQL(CUSTOMER_VIEW, "DROP VIEW IF EXISTS customer;"),
    ]
