"""Rules the database enforces for every writer, the ORM and raw SQL alike.

1. Foreign keys with real ``ON DELETE`` actions (Django only emulates them in Python):
   containers -> profiles/guidelines/budgets ``RESTRICT``; campaign usage -> containers
   and records, and alert firings -> budgets, ``CASCADE`` (seed 003's policies).
2. ``profiles_versioning`` (BEFORE INSERT/UPDATE): a new row starts at version 1; an
   update that changes anything gets exactly ``version + 1`` (set automatically when the
   writer did not bump it, refused when it jumped) and a fresh ``updated_at``; an update
   that changes nothing keeps its version; ``account_id`` never changes.
3. ``profiles_version_history`` (AFTER INSERT/UPDATE): every version is copied, whole, to
   ``profile_version_history`` with who wrote it.
4. ``profiles_check_references`` (containers and usage, BEFORE INSERT/UPDATE): referenced
   records belong to the same account and, for a live container / active usage, are not
   soft-deleted. It takes a share lock on each referenced row, so it cannot race with a
   concurrent soft delete of that row (next rule).
5. ``profiles_refuse_soft_delete`` (BEFORE UPDATE OF deleted_at): a record that a live
   container or an active campaign usage references cannot be soft-deleted.

Superseded by migration 0004: the same rules are now declared on the models (foreign key
constraints in ``Meta.constraints``, pgtrigger triggers in ``Meta.triggers``), so nothing
here is ever re-run by hand.
"""

from django.db import migrations

VERSIONED = {
    # table -> generated columns (left out when deciding whether a row changed)
    "target_customer_profiles": ["search_vector"],
    "brand_guidelines": ["search_vector"],
    "budgets": ["search_vector", "amount_remaining", "percentage_spent"],
    "customer_profile_containers": ["search_vector", "is_complete", "missing_profiles"],
}

# (table, column, referenced table, ON DELETE action)
FOREIGN_KEYS = [
    ("customer_profile_containers", "customer_profile_id", "target_customer_profiles", "RESTRICT"),
    ("customer_profile_containers", "brand_guidelines_id", "brand_guidelines", "RESTRICT"),
    ("customer_profile_containers", "budget_id", "budgets", "RESTRICT"),
    ("campaign_profile_usage", "container_id", "customer_profile_containers", "CASCADE"),
    ("campaign_profile_usage", "customer_profile_id", "target_customer_profiles", "CASCADE"),
    ("campaign_profile_usage", "brand_guidelines_id", "brand_guidelines", "CASCADE"),
    ("campaign_profile_usage", "budget_id", "budgets", "CASCADE"),
    ("budget_alert_firings", "budget_id", "budgets", "CASCADE"),
]

REFERENCES = (
    "'customer_profile_id:target_customer_profiles', 'brand_guidelines_id:brand_guidelines', 'budget_id:budgets'"
)

# referenced table -> the (referencing table, column, "still uses it" condition) pairs
REFERENCED_BY = {
    "target_customer_profiles": [
        ("customer_profile_containers", "customer_profile_id", "deleted_at IS NULL"),
        ("campaign_profile_usage", "customer_profile_id", "is_active"),
    ],
    "brand_guidelines": [
        ("customer_profile_containers", "brand_guidelines_id", "deleted_at IS NULL"),
        ("campaign_profile_usage", "brand_guidelines_id", "is_active"),
    ],
    "budgets": [
        ("customer_profile_containers", "budget_id", "deleted_at IS NULL"),
        ("campaign_profile_usage", "budget_id", "is_active"),
    ],
    "customer_profile_containers": [
        ("campaign_profile_usage", "container_id", "is_active"),
    ],
}


def _foreign_keys_sql(*, with_actions: bool) -> str:
    statements = []
    for table, column, target, action in FOREIGN_KEYS:
        clause = f"ON DELETE {action} ON UPDATE CASCADE " if with_actions else ""
        statements.append(f"""
DO $$
DECLARE name text;
BEGIN
  SELECT c.conname INTO name FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
   WHERE c.contype = 'f' AND c.conrelid = '{table}'::regclass AND a.attname = '{column}';
  EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I', name);
  EXECUTE format('ALTER TABLE {table} ADD CONSTRAINT %I FOREIGN KEY ({column}) REFERENCES {target} (id) '
                 '{clause}DEFERRABLE INITIALLY DEFERRED', name);
END $$;""")
    return "\n".join(statements)


FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION profiles_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ignored text[] := TG_ARGV || ARRAY['version', 'updated_at', 'updated_by_id'];
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.version IS DISTINCT FROM 1 THEN
      RAISE EXCEPTION 'a new % row starts at version 1, not %', TG_TABLE_NAME, NEW.version
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_starts_at_1';
    END IF;
    RETURN NEW;
  END IF;
  IF NEW.account_id IS DISTINCT FROM OLD.account_id THEN
    RAISE EXCEPTION 'the account of a % row cannot change', TG_TABLE_NAME
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_account_immutable';
  END IF;
  IF (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN
    -- Nothing changed: not a new version.
    NEW.version := OLD.version;
    NEW.updated_at := OLD.updated_at;
    NEW.updated_by_id := OLD.updated_by_id;
    RETURN NEW;
  END IF;
  IF NEW.version = OLD.version THEN
    NEW.version := OLD.version + 1;
  ELSIF NEW.version IS DISTINCT FROM OLD.version + 1 THEN
    RAISE EXCEPTION 'the version of a % row goes from % to %, not to %', TG_TABLE_NAME, OLD.version,
      OLD.version + 1, NEW.version
      USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_version_increments_by_1';
  END IF;
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at := statement_timestamp();
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION profiles_version_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.version <> OLD.version THEN
    INSERT INTO profile_version_history (id, profile_type, profile_id, version, data, created_at, created_by_id)
    VALUES (gen_random_uuid(), TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW) - 'search_vector',
            CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,
            CASE WHEN TG_OP = 'INSERT' THEN NEW.created_by_id ELSE NEW.updated_by_id END);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION profiles_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  row_data jsonb := to_jsonb(NEW);
  in_use boolean := (row_data ->> 'deleted_at') IS NULL AND coalesce((row_data ->> 'is_active')::boolean, true);
  pair text;
  col text;
  tbl text;
  ref_id uuid;
  ref_account text;
  ref_deleted timestamptz;
BEGIN
  FOREACH pair IN ARRAY TG_ARGV LOOP
    col := split_part(pair, ':', 1);
    tbl := split_part(pair, ':', 2);
    ref_id := (row_data ->> col)::uuid;
    CONTINUE WHEN ref_id IS NULL;
    ref_account := NULL;
    EXECUTE format('SELECT account_id, deleted_at FROM %I WHERE id = $1 FOR SHARE', tbl)
      INTO ref_account, ref_deleted USING ref_id;
    CONTINUE WHEN ref_account IS NULL;  -- missing row: the foreign key reports it
    IF ref_account <> NEW.account_id THEN
      RAISE EXCEPTION '% % belongs to account %, not to account %', tbl, ref_id, ref_account, NEW.account_id
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';
    END IF;
    IF in_use AND ref_deleted IS NOT NULL THEN
      RAISE EXCEPTION '% % is deleted', tbl, ref_id
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION profiles_refuse_soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  spec text;
  user_id uuid;
BEGIN
  FOREACH spec IN ARRAY TG_ARGV LOOP
    EXECUTE format('SELECT id FROM %I WHERE %I = $1 AND %s LIMIT 1',
                   split_part(spec, ':', 1), split_part(spec, ':', 2), split_part(spec, ':', 3))
      INTO user_id USING NEW.id;
    IF user_id IS NOT NULL THEN
      RAISE EXCEPTION '% % is used by % %', TG_TABLE_NAME, NEW.id, split_part(spec, ':', 1), user_id
        USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';
    END IF;
  END LOOP;
  RETURN NEW;
END $$;
"""


def _triggers_sql() -> str:
    statements = []
    for table, generated in VERSIONED.items():
        args = ", ".join(f"'{c}'" for c in generated)
        statements.append(
            f"CREATE TRIGGER profiles_versioning BEFORE INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION profiles_versioning({args});"
        )
        statements.append(
            f"CREATE TRIGGER profiles_version_history AFTER INSERT OR UPDATE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION profiles_version_history();"
        )
    for table, users in REFERENCED_BY.items():
        args = ", ".join(f"'{t}:{c}:{cond}'" for t, c, cond in users)
        statements.append(
            f"CREATE TRIGGER profiles_refuse_soft_delete BEFORE UPDATE OF deleted_at ON {table} "
            f"FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL) "
            f"EXECUTE FUNCTION profiles_refuse_soft_delete({args});"
        )
    statements.append(
        "CREATE TRIGGER profiles_check_references BEFORE INSERT OR UPDATE OF customer_profile_id, "
        "brand_guidelines_id, budget_id, deleted_at ON customer_profile_containers "
        f"FOR EACH ROW EXECUTE FUNCTION profiles_check_references({REFERENCES});"
    )
    statements.append(
        "CREATE TRIGGER profiles_check_references BEFORE INSERT OR UPDATE OF container_id, customer_profile_id, "
        "brand_guidelines_id, budget_id, is_active, account_id ON campaign_profile_usage "
        f"FOR EACH ROW EXECUTE FUNCTION profiles_check_references("
        f"'container_id:customer_profile_containers', {REFERENCES});"
    )
    return "\n".join(statements)


def _drop_sql() -> str:
    statements = []
    for table in VERSIONED:
        statements.append(f"DROP TRIGGER IF EXISTS profiles_versioning ON {table};")
        statements.append(f"DROP TRIGGER IF EXISTS profiles_version_history ON {table};")
    for table in REFERENCED_BY:
        statements.append(f"DROP TRIGGER IF EXISTS profiles_refuse_soft_delete ON {table};")
    statements.append("DROP TRIGGER IF EXISTS profiles_check_references ON customer_profile_containers;")
    statements.append("DROP TRIGGER IF EXISTS profiles_check_references ON campaign_profile_usage;")
    for fn in (
        "profiles_versioning",
        "profiles_version_history",
        "profiles_check_references",
        "profiles_refuse_soft_delete",
    ):
        statements.append(f"DROP FUNCTION IF EXISTS {fn}();")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [("profiles", "0002_initial")]

    operations = [
        migrations.RunSQL(_foreign_keys_sql(with_actions=True), reverse_sql=_foreign_keys_sql(with_actions=False)),
        migrations.RunSQL(FUNCTIONS + _triggers_sql(), reverse_sql=_drop_sql()),
    ]
