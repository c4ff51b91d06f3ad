"""Indexes for one-statement ledger writes.

* The wallet's ``updated_at`` index goes: a write changes ``balance``, ``lifetime_earned`` and
  ``updated_at``, none indexed any more, so PostgreSQL can update the wallet row in place (a HOT
  update: no new index entries). The table keeps 10 % of each page free for those new row versions.
* The ledger loses two duplicate indexes: the foreign key's own index on ``wallet_id`` (the
  ``(wallet_id, created_at, id)`` index starts with it) and the ``varchar_pattern_ops`` copy of the
  idempotency key's unique index (no query matches keys by pattern). The key stays unique: the
  constraint is added before the old one is dropped.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_action_tokens_email_changes_sessions"),
        ("rewards", "0004_wallet_members_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="wallet",
            options={
                "ordering": ["-id"],
                "permissions": [("adjust_wallet", "Can adjust a wallet's balance (through a ledger entry)")],
            },
        ),
        migrations.RemoveIndex(model_name="wallet", name="rewards_wallet_updated"),
        # A storage parameter, which models cannot declare: room on each page for HOT row versions.
        migrations.RunSQL(
            "ALTER TABLE rewards_wallet SET (fillfactor = 90)",
            reverse_sql="ALTER TABLE rewards_wallet RESET (fillfactor)",
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.UniqueConstraint(
                fields=("idempotency_key",), name="rewards_ledger_idempotency_key_unique"
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="idempotency_key",
            field=models.CharField(max_length=255),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="wallet",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="rewards.wallet",
            ),
        ),
    ]
