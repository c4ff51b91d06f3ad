"""Database guards for the experiment lifecycle.

* ``variants_frozen_unless_draft``: once an experiment has left ``draft``, its variants
  cannot be added, removed, re-weighted, re-ordered or re-configured (only their
  description may change). Deleting the experiment itself still cascades.
* ``experiments_start_requirements``: an experiment only moves from ``draft`` to
  ``running`` with at least two variants whose weights sum to 1 and exactly one control.
"""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION experiments_variants_frozen() RETURNS trigger AS $$
DECLARE
    exp_status text;
    exp_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN exp_id := OLD.experiment_id; ELSE exp_id := NEW.experiment_id; END IF;
    SELECT status INTO exp_status FROM experiments WHERE id = exp_id;
    IF NOT FOUND OR exp_status = 'draft' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE'
       AND NEW.experiment_id = OLD.experiment_id
       AND NEW.name = OLD.name
       AND NEW.weight = OLD.weight
       AND NEW.is_control = OLD.is_control
       AND NEW.position = OLD.position
       AND NEW.config_json IS NOT DISTINCT FROM OLD.config_json THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'variants of experiment % cannot change once it has started (status %)', exp_id, exp_status
        USING ERRCODE = 'check_violation', CONSTRAINT = 'variants_frozen_unless_draft';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER variants_frozen_unless_draft
BEFORE INSERT OR UPDATE OR DELETE ON variants
FOR EACH ROW EXECUTE FUNCTION experiments_variants_frozen();

CREATE OR REPLACE FUNCTION experiments_check_start() RETURNS trigger AS $$
DECLARE
    n integer;
    total numeric;
    controls integer;
BEGIN
    SELECT count(*), coalesce(sum(weight), 0), count(*) FILTER (WHERE is_control)
      INTO n, total, controls
      FROM variants WHERE experiment_id = NEW.id;
    IF n < 2 OR total <> 1 OR controls <> 1 THEN
        RAISE EXCEPTION 'experiment % cannot start: % variants, weights sum to %, % controls', NEW.id, n, total, controls
            USING ERRCODE = 'check_violation', CONSTRAINT = 'experiments_start_requirements';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER experiments_start_requirements
BEFORE UPDATE OF status ON experiments
FOR EACH ROW WHEN (OLD.status = 'draft' AND NEW.status = 'running')
EXECUTE FUNCTION experiments_check_start();
"""

REVERSE = """
DROP TRIGGER IF EXISTS experiments_start_requirements ON experiments;
DROP FUNCTION IF EXISTS experiments_check_start();
DROP TRIGGER IF EXISTS variants_frozen_unless_draft ON variants;
DROP FUNCTION IF EXISTS experiments_variants_frozen();
"""


class Migration(migrations.Migration):
    dependencies = [("experiments", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
