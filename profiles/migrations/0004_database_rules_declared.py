"""Database rules declared on the models instead of hand-written SQL.

1. The triggers and functions that migration 0003 wrote by hand are dropped.
2. The foreign keys become ``db_constraint=False`` fields whose constraint is declared in
   the model's ``Meta.constraints`` (``profiles.db_rules.ForeignKeyConstraint``) with the
   same ``ON DELETE`` actions: Django drops the constraints 0003 re-created and adds the
   declared ones. A later change of one of these foreign keys is an ordinary migration.
3. The same rules come back as ``pgtrigger`` triggers declared in each model's
   ``Meta.triggers`` (written by ``makemigrations``).

All of it runs in one transaction: no row is written without its rules. Rows and their
version history are left as they are.
"""

import importlib

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

import profiles.db_rules

HAND_WRITTEN = importlib.import_module("profiles.migrations.0003_database_rules")


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0003_database_rules"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Backwards, this runs last: 0003's foreign keys, functions and triggers come back as they were.
        migrations.RunSQL(
            HAND_WRITTEN._drop_sql(),
            reverse_sql=(
                HAND_WRITTEN._foreign_keys_sql(with_actions=True)
                + HAND_WRITTEN.FUNCTIONS
                + HAND_WRITTEN._triggers_sql()
            ),
        ),
        migrations.AlterField(
            model_name="budgetalertfiring",
            name="budget",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="alert_firings",
                to="profiles.budget",
            ),
        ),
        migrations.AlterField(
            model_name="campaignprofileusage",
            name="brand_guidelines",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="campaign_usages",
                to="profiles.brandguidelines",
            ),
        ),
        migrations.AlterField(
            model_name="campaignprofileusage",
            name="budget",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="campaign_usages",
                to="profiles.budget",
            ),
        ),
        migrations.AlterField(
            model_name="campaignprofileusage",
            name="container",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="campaign_usages",
                to="profiles.profilecontainer",
            ),
        ),
        migrations.AlterField(
            model_name="campaignprofileusage",
            name="customer_profile",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="campaign_usages",
                to="profiles.targetcustomerprofile",
            ),
        ),
        migrations.AlterField(
            model_name="profilecontainer",
            name="brand_guidelines",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="containers",
                to="profiles.brandguidelines",
            ),
        ),
        migrations.AlterField(
            model_name="profilecontainer",
            name="budget",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="containers",
                to="profiles.budget",
            ),
        ),
        migrations.AlterField(
            model_name="profilecontainer",
            name="customer_profile",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="containers",
                to="profiles.targetcustomerprofile",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="brandguidelines",
            trigger=pgtrigger.compiler.Trigger(
                name="versioning",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE ignored text[];",
                    func="\n        ignored := ARRAY['search_vector', 'version', 'updated_at', 'updated_by_id']::text[];\n        IF TG_OP = 'INSERT' THEN\n          IF NEW.version IS DISTINCT FROM 1 THEN\n            RAISE EXCEPTION 'a new % row starts at version 1, not %', TG_TABLE_NAME, NEW.version\n              USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_starts_at_1';\n          END IF;\n          RETURN NEW;\n        END IF;\n        IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN\n          RAISE EXCEPTION 'the account of a % row cannot change', TG_TABLE_NAME\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_account_immutable';\n        END IF;\n        IF (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN\n          -- Nothing changed: not a new version.\n          NEW.version := OLD.version;\n          NEW.updated_at := OLD.updated_at;\n          NEW.updated_by_id := OLD.updated_by_id;\n          RETURN NEW;\n        END IF;\n        IF NEW.version = OLD.version THEN\n          NEW.version := OLD.version + 1;\n        ELSIF NEW.version IS DISTINCT FROM OLD.version + 1 THEN\n          RAISE EXCEPTION 'the version of a % row goes from % to %, not to %', TG_TABLE_NAME, OLD.version,\n            OLD.version + 1, NEW.version\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_increments_by_1';\n        END IF;\n        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN\n          NEW.updated_at := statement_timestamp();\n        END IF;\n        RETURN NEW;\n        ",
                    hash="8c3da706402b07c11aa97e05545e0dc7b117713b",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_versioning_878a9",
                    table="brand_guidelines",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="brandguidelines",
            trigger=pgtrigger.compiler.Trigger(
                name="version_history",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n        IF TG_OP = 'INSERT' OR NEW.version <> OLD.version THEN\n          INSERT INTO profile_version_history (id, profile_type, profile_id, version, data, created_at, created_by_id)\n          VALUES (gen_random_uuid(), TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW) - 'search_vector',\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_by_id ELSE NEW.updated_by_id END);\n        END IF;\n        RETURN NULL;\n        ",
                    hash="a180d202e2181ac5e9b02150f9d9fe1722ed9d2f",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_version_history_34e93",
                    table="brand_guidelines",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="brandguidelines",
            trigger=pgtrigger.compiler.Trigger(
                name="refuse_soft_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL)',
                    declare="DECLARE user_id uuid;",
                    func="\n        SELECT id INTO user_id FROM customer_profile_containers WHERE brand_guidelines_id = NEW.id AND (deleted_at IS NULL) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by customer_profile_containers %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        SELECT id INTO user_id FROM campaign_profile_usage WHERE brand_guidelines_id = NEW.id AND (is_active) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by campaign_profile_usage %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        RETURN NEW;",
                    hash="c42d6c058de254f58cdaf7ff8d217ca4aefa2bea",
                    operation='UPDATE OF "deleted_at"',
                    pgid="pgtrigger_refuse_soft_delete_6430b",
                    table="brand_guidelines",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="budget",
            trigger=pgtrigger.compiler.Trigger(
                name="versioning",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE ignored text[];",
                    func="\n        ignored := ARRAY['amount_remaining', 'percentage_spent', 'search_vector', 'version', 'updated_at', 'updated_by_id']::text[];\n        IF TG_OP = 'INSERT' THEN\n          IF NEW.version IS DISTINCT FROM 1 THEN\n            RAISE EXCEPTION 'a new % row starts at version 1, not %', TG_TABLE_NAME, NEW.version\n              USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_starts_at_1';\n          END IF;\n          RETURN NEW;\n        END IF;\n        IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN\n          RAISE EXCEPTION 'the account of a % row cannot change', TG_TABLE_NAME\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_account_immutable';\n        END IF;\n        IF (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN\n          -- Nothing changed: not a new version.\n          NEW.version := OLD.version;\n          NEW.updated_at := OLD.updated_at;\n          NEW.updated_by_id := OLD.updated_by_id;\n          RETURN NEW;\n        END IF;\n        IF NEW.version = OLD.version THEN\n          NEW.version := OLD.version + 1;\n        ELSIF NEW.version IS DISTINCT FROM OLD.version + 1 THEN\n          RAISE EXCEPTION 'the version of a % row goes from % to %, not to %', TG_TABLE_NAME, OLD.version,\n            OLD.version + 1, NEW.version\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_increments_by_1';\n        END IF;\n        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN\n          NEW.updated_at := statement_timestamp();\n        END IF;\n        RETURN NEW;\n        ",
                    hash="b901c54623e3fcebca0922ecae356f5eb8f92831",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_versioning_195a2",
                    table="budgets",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="budget",
            trigger=pgtrigger.compiler.Trigger(
                name="version_history",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n        IF TG_OP = 'INSERT' OR NEW.version <> OLD.version THEN\n          INSERT INTO profile_version_history (id, profile_type, profile_id, version, data, created_at, created_by_id)\n          VALUES (gen_random_uuid(), TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW) - 'search_vector',\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_by_id ELSE NEW.updated_by_id END);\n        END IF;\n        RETURN NULL;\n        ",
                    hash="e7d9b5dc6d0665e4703e00000d091d16f329ca4f",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_version_history_a9a06",
                    table="budgets",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="budget",
            trigger=pgtrigger.compiler.Trigger(
                name="refuse_soft_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL)',
                    declare="DECLARE user_id uuid;",
                    func="\n        SELECT id INTO user_id FROM customer_profile_containers WHERE budget_id = NEW.id AND (deleted_at IS NULL) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by customer_profile_containers %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        SELECT id INTO user_id FROM campaign_profile_usage WHERE budget_id = NEW.id AND (is_active) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by campaign_profile_usage %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        RETURN NEW;",
                    hash="a26ace70a31e78470d554e29ba0f6fd408fde8dd",
                    operation='UPDATE OF "deleted_at"',
                    pgid="pgtrigger_refuse_soft_delete_a5c0e",
                    table="budgets",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="campaignprofileusage",
            trigger=pgtrigger.compiler.Trigger(
                name="check_references",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE ref_account text; ref_deleted timestamptz;",
                    func="\n        IF NEW.container_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM customer_profile_containers WHERE id = NEW.container_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'customer_profile_containers % belongs to account %, not to account %', NEW.container_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.is_active) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'customer_profile_containers % is deleted', NEW.container_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        IF NEW.customer_profile_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM target_customer_profiles WHERE id = NEW.customer_profile_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'target_customer_profiles % belongs to account %, not to account %', NEW.customer_profile_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.is_active) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'target_customer_profiles % is deleted', NEW.customer_profile_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        IF NEW.brand_guidelines_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM brand_guidelines WHERE id = NEW.brand_guidelines_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'brand_guidelines % belongs to account %, not to account %', NEW.brand_guidelines_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.is_active) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'brand_guidelines % is deleted', NEW.brand_guidelines_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        IF NEW.budget_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM budgets WHERE id = NEW.budget_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'budgets % belongs to account %, not to account %', NEW.budget_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.is_active) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'budgets % is deleted', NEW.budget_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        RETURN NEW;",
                    hash="d318b7dadfbede83a119d24182a6690ccab81543",
                    operation='INSERT OR UPDATE OF "container_id", "customer_profile_id", "brand_guidelines_id", "budget_id", "is_active", "account_id"',
                    pgid="pgtrigger_check_references_2a6e4",
                    table="campaign_profile_usage",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="profilecontainer",
            trigger=pgtrigger.compiler.Trigger(
                name="versioning",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE ignored text[];",
                    func="\n        ignored := ARRAY['is_complete', 'missing_profiles', 'search_vector', 'version', 'updated_at', 'updated_by_id']::text[];\n        IF TG_OP = 'INSERT' THEN\n          IF NEW.version IS DISTINCT FROM 1 THEN\n            RAISE EXCEPTION 'a new % row starts at version 1, not %', TG_TABLE_NAME, NEW.version\n              USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_starts_at_1';\n          END IF;\n          RETURN NEW;\n        END IF;\n        IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN\n          RAISE EXCEPTION 'the account of a % row cannot change', TG_TABLE_NAME\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_account_immutable';\n        END IF;\n        IF (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN\n          -- Nothing changed: not a new version.\n          NEW.version := OLD.version;\n          NEW.updated_at := OLD.updated_at;\n          NEW.updated_by_id := OLD.updated_by_id;\n          RETURN NEW;\n        END IF;\n        IF NEW.version = OLD.version THEN\n          NEW.version := OLD.version + 1;\n        ELSIF NEW.version IS DISTINCT FROM OLD.version + 1 THEN\n          RAISE EXCEPTION 'the version of a % row goes from % to %, not to %', TG_TABLE_NAME, OLD.version,\n            OLD.version + 1, NEW.version\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_increments_by_1';\n        END IF;\n        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN\n          NEW.updated_at := statement_timestamp();\n        END IF;\n        RETURN NEW;\n        ",
                    hash="0ec37ea563d9a54f60c9e0a4c2a629d8f4e79a17",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_versioning_04867",
                    table="customer_profile_containers",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="profilecontainer",
            trigger=pgtrigger.compiler.Trigger(
                name="version_history",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n        IF TG_OP = 'INSERT' OR NEW.version <> OLD.version THEN\n          INSERT INTO profile_version_history (id, profile_type, profile_id, version, data, created_at, created_by_id)\n          VALUES (gen_random_uuid(), TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW) - 'search_vector',\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_by_id ELSE NEW.updated_by_id END);\n        END IF;\n        RETURN NULL;\n        ",
                    hash="2dc4486ccda064c762cd188e211cae39c568b5c9",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_version_history_747f6",
                    table="customer_profile_containers",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="profilecontainer",
            trigger=pgtrigger.compiler.Trigger(
                name="refuse_soft_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL)',
                    declare="DECLARE user_id uuid;",
                    func="\n        SELECT id INTO user_id FROM campaign_profile_usage WHERE container_id = NEW.id AND (is_active) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by campaign_profile_usage %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        RETURN NEW;",
                    hash="593dc53a0b7d4702f9df55ea3bb94841053bf9a3",
                    operation='UPDATE OF "deleted_at"',
                    pgid="pgtrigger_refuse_soft_delete_72b67",
                    table="customer_profile_containers",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="profilecontainer",
            trigger=pgtrigger.compiler.Trigger(
                name="check_references",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE ref_account text; ref_deleted timestamptz;",
                    func="\n        IF NEW.customer_profile_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM target_customer_profiles WHERE id = NEW.customer_profile_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'target_customer_profiles % belongs to account %, not to account %', NEW.customer_profile_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.deleted_at IS NULL) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'target_customer_profiles % is deleted', NEW.customer_profile_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        IF NEW.brand_guidelines_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM brand_guidelines WHERE id = NEW.brand_guidelines_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'brand_guidelines % belongs to account %, not to account %', NEW.brand_guidelines_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.deleted_at IS NULL) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'brand_guidelines % is deleted', NEW.brand_guidelines_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        IF NEW.budget_id IS NOT NULL THEN\n          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM budgets WHERE id = NEW.budget_id FOR SHARE;\n          IF FOUND THEN  -- a missing row is the foreign key's to report\n            IF ref_account <> NEW.account_id THEN\n              RAISE EXCEPTION 'budgets % belongs to account %, not to account %', NEW.budget_id, ref_account,\n                NEW.account_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';\n            END IF;\n            IF (NEW.deleted_at IS NULL) AND ref_deleted IS NOT NULL THEN\n              RAISE EXCEPTION 'budgets % is deleted', NEW.budget_id\n                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';\n            END IF;\n          END IF;\n        END IF;\n        RETURN NEW;",
                    hash="824304e97dae28734ba973d15d6c8034a12c951a",
                    operation='INSERT OR UPDATE OF "customer_profile_id", "brand_guidelines_id", "budget_id", "deleted_at"',
                    pgid="pgtrigger_check_references_c37f8",
                    table="customer_profile_containers",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="targetcustomerprofile",
            trigger=pgtrigger.compiler.Trigger(
                name="versioning",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE ignored text[];",
                    func="\n        ignored := ARRAY['search_vector', 'version', 'updated_at', 'updated_by_id']::text[];\n        IF TG_OP = 'INSERT' THEN\n          IF NEW.version IS DISTINCT FROM 1 THEN\n            RAISE EXCEPTION 'a new % row starts at version 1, not %', TG_TABLE_NAME, NEW.version\n              USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_starts_at_1';\n          END IF;\n          RETURN NEW;\n        END IF;\n        IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN\n          RAISE EXCEPTION 'the account of a % row cannot change', TG_TABLE_NAME\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_account_immutable';\n        END IF;\n        IF (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN\n          -- Nothing changed: not a new version.\n          NEW.version := OLD.version;\n          NEW.updated_at := OLD.updated_at;\n          NEW.updated_by_id := OLD.updated_by_id;\n          RETURN NEW;\n        END IF;\n        IF NEW.version = OLD.version THEN\n          NEW.version := OLD.version + 1;\n        ELSIF NEW.version IS DISTINCT FROM OLD.version + 1 THEN\n          RAISE EXCEPTION 'the version of a % row goes from % to %, not to %', TG_TABLE_NAME, OLD.version,\n            OLD.version + 1, NEW.version\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_increments_by_1';\n        END IF;\n        IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN\n          NEW.updated_at := statement_timestamp();\n        END IF;\n        RETURN NEW;\n        ",
                    hash="aebbda362926e53b7dc8cef3107cd32680986216",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_versioning_f1af2",
                    table="target_customer_profiles",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="targetcustomerprofile",
            trigger=pgtrigger.compiler.Trigger(
                name="version_history",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\n        IF TG_OP = 'INSERT' OR NEW.version <> OLD.version THEN\n          INSERT INTO profile_version_history (id, profile_type, profile_id, version, data, created_at, created_by_id)\n          VALUES (gen_random_uuid(), TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW) - 'search_vector',\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,\n                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_by_id ELSE NEW.updated_by_id END);\n        END IF;\n        RETURN NULL;\n        ",
                    hash="b41c623ae303dfff7da284fbfdf52d438d7aa980",
                    operation="INSERT OR UPDATE",
                    pgid="pgtrigger_version_history_bdb07",
                    table="target_customer_profiles",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="targetcustomerprofile",
            trigger=pgtrigger.compiler.Trigger(
                name="refuse_soft_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (NEW."deleted_at" IS NOT NULL AND OLD."deleted_at" IS NULL)',
                    declare="DECLARE user_id uuid;",
                    func="\n        SELECT id INTO user_id FROM customer_profile_containers WHERE customer_profile_id = NEW.id AND (deleted_at IS NULL) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by customer_profile_containers %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        SELECT id INTO user_id FROM campaign_profile_usage WHERE customer_profile_id = NEW.id AND (is_active) LIMIT 1;\n        IF user_id IS NOT NULL THEN\n          RAISE EXCEPTION '% % is used by campaign_profile_usage %', TG_TABLE_NAME, NEW.id, user_id\n            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';\n        END IF;\n        RETURN NEW;",
                    hash="108c4e4aadb26dbdd98ed33ac20064e0b5104a50",
                    operation='UPDATE OF "deleted_at"',
                    pgid="pgtrigger_refuse_soft_delete_861a4",
                    table="target_customer_profiles",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="budgetalertfiring",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="budget",
                name="budget_alert_firings_budget_fk",
                on_delete="CASCADE",
                on_update="CASCADE",
                to="profiles.Budget",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaignprofileusage",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="container",
                name="campaign_profile_usage_container_fk",
                on_delete="CASCADE",
                on_update="CASCADE",
                to="profiles.ProfileContainer",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaignprofileusage",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="customer_profile",
                name="campaign_profile_usage_customer_profile_fk",
                on_delete="CASCADE",
                on_update="CASCADE",
                to="profiles.TargetCustomerProfile",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaignprofileusage",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="brand_guidelines",
                name="campaign_profile_usage_brand_guidelines_fk",
                on_delete="CASCADE",
                on_update="CASCADE",
                to="profiles.BrandGuidelines",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaignprofileusage",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="budget",
                name="campaign_profile_usage_budget_fk",
                on_delete="CASCADE",
                on_update="CASCADE",
                to="profiles.Budget",
            ),
        ),
        migrations.AddConstraint(
            model_name="profilecontainer",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="customer_profile",
                name="customer_profile_containers_customer_profile_fk",
                on_delete="RESTRICT",
                on_update="CASCADE",
                to="profiles.TargetCustomerProfile",
            ),
        ),
        migrations.AddConstraint(
            model_name="profilecontainer",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="brand_guidelines",
                name="customer_profile_containers_brand_guidelines_fk",
                on_delete="RESTRICT",
                on_update="CASCADE",
                to="profiles.BrandGuidelines",
            ),
        ),
        migrations.AddConstraint(
            model_name="profilecontainer",
            constraint=profiles.db_rules.ForeignKeyConstraint(
                field="budget",
                name="customer_profile_containers_budget_fk",
                on_delete="RESTRICT",
                on_update="CASCADE",
                to="profiles.Budget",
            ),
        ),
    ]
