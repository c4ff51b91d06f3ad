"""The lifecycle triggers move from hand-written SQL (0002) to ``pgtrigger`` declarations on the
models (``Experiment.Meta.triggers``, ``Variant.Meta.triggers``), with the same rules and errors.

The hand-written triggers and their functions are dropped first (IF EXISTS: safe to re-run),
then pgtrigger installs its own. Going back re-creates the hand-written ones.
"""

import importlib

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

DROP_HAND_WRITTEN = """
DROP TRIGGER IF EXISTS experiments_start_requirements ON experiments;
DROP FUNCTION IF EXISTS experiments_check_start();
DROP TRIGGER IF EXISTS variants_frozen_unless_draft ON variants;
DROP FUNCTION IF EXISTS experiments_variants_frozen();
"""
HAND_WRITTEN = importlib.import_module("experiments.migrations.0002_lifecycle_triggers").SQL


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0003_console_order_indexes"),
    ]

    operations = [
        migrations.RunSQL(DROP_HAND_WRITTEN, HAND_WRITTEN),
        pgtrigger.migrations.AddTrigger(
            model_name="experiment",
            trigger=pgtrigger.compiler.Trigger(
                name="experiments_start_requirements",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (NEW.\"status\" = 'running' AND OLD.\"status\" = 'draft')",
                    declare="DECLARE n integer; total numeric; controls integer;",
                    func="\n                    SELECT count(*), coalesce(sum(weight), 0), count(*) FILTER (WHERE is_control)\n                      INTO n, total, controls\n                      FROM variants WHERE experiment_id = NEW.id;\n                    IF n < 2 OR total <> 1 OR controls <> 1 THEN\n                        RAISE EXCEPTION 'experiment % cannot start: % variants, weights sum to %, % controls',\n                            NEW.id, n, total, controls\n                            USING ERRCODE = 'check_violation', CONSTRAINT = 'experiments_start_requirements';\n                    END IF;\n                    RETURN NEW;\n                ",
                    hash="4d14579e040399576abdc62b43a234c65eaf1978",
                    operation='UPDATE OF "status"',
                    pgid="pgtrigger_experiments_start_requirements_32960",
                    table="experiments",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="variant",
            trigger=pgtrigger.compiler.Trigger(
                name="variants_frozen_unless_draft",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    declare="DECLARE exp_status text; exp_id uuid;",
                    func="\n                    IF TG_OP = 'DELETE' THEN exp_id := OLD.experiment_id; ELSE exp_id := NEW.experiment_id; END IF;\n                    SELECT status INTO exp_status FROM experiments WHERE id = exp_id;\n                    IF NOT FOUND OR exp_status = 'draft' THEN\n                        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\n                        RETURN NEW;\n                    END IF;\n                    IF TG_OP = 'UPDATE'\n                       AND NEW.experiment_id = OLD.experiment_id\n                       AND NEW.name = OLD.name\n                       AND NEW.weight = OLD.weight\n                       AND NEW.is_control = OLD.is_control\n                       AND NEW.position = OLD.position\n                       AND NEW.config_json IS NOT DISTINCT FROM OLD.config_json THEN\n                        RETURN NEW;\n                    END IF;\n                    RAISE EXCEPTION 'variants of experiment % cannot change once it has started (status %)',\n                        exp_id, exp_status\n                        USING ERRCODE = 'check_violation', CONSTRAINT = 'variants_frozen_unless_draft';\n                ",
                    hash="941d6a2ca37016f6e328bb3df6223c88562db74f",
                    operation="INSERT OR UPDATE OR DELETE",
                    pgid="pgtrigger_variants_frozen_unless_draft_f64a0",
                    table="variants",
                    when="BEFORE",
                ),
            ),
        ),
    ]
