"""Database rules of campaign profiles, declared on the models.

Everything here is used in the models' ``Meta`` and installed by ordinary migrations
(``makemigrations`` writes them): nothing is ever re-run by hand.

* :class:`ForeignKeyConstraint` — a foreign key with a real ``ON DELETE`` action (Django
  only emulates ``on_delete`` in Python). Used in ``Meta.constraints`` on a ``ForeignKey``
  declared with ``db_constraint=False``, so Django never drops or re-creates the constraint
  behind its back when the field is altered; the model check ``profiles.E001`` keeps the
  declaration in step with the field.
* ``pgtrigger`` triggers (``Meta.triggers``), one PL/pgSQL function each:

  - :class:`Versioning` — a new row starts at version 1; a real change gets exactly
    ``version + 1`` and a fresh ``updated_at``; a no-op update keeps its version;
    ``account_id`` never changes;
  - :class:`VersionHistory` — every version is copied whole to ``profile_version_history``;
  - :func:`check_references` — a row's references belong to its account and, while the row
    is in use, are not soft-deleted (a share lock on each referenced row, so it cannot race a
    concurrent soft delete);
  - :func:`refuse_soft_delete_in_use` — a record that something still uses cannot be
    soft-deleted.

Errors carry ``ERRCODE = check_violation`` and a constraint name ``<table>_<rule>``, which
``profiles.services`` turns into clear messages.
"""

from __future__ import annotations

from collections.abc import Iterable

import pgtrigger
from django.core import checks
from django.db import models
from django.db.models.constraints import BaseConstraint

# ------------------------------------------------------------------------ foreign keys

ACTIONS = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")
# The database action that matches each Python ``on_delete``.
PYTHON_ACTIONS = {
    models.CASCADE: ("CASCADE",),
    models.RESTRICT: ("RESTRICT", "NO ACTION"),
    models.PROTECT: ("RESTRICT", "NO ACTION"),
    models.SET_NULL: ("SET NULL",),
}


class ForeignKeyConstraint(BaseConstraint):
    """``FOREIGN KEY (<field>) REFERENCES <to> ON DELETE <on_delete> ON UPDATE <on_update>``.

    ``to`` is the referenced model's label (``"profiles.Budget"``); the SQL takes the table
    and column from the field, and the model check refuses a declaration whose ``to`` or
    ``on_delete`` disagrees with the field — so changing the field means changing this
    declaration, and ``makemigrations`` re-creates the constraint.
    """

    def __init__(
        self,
        *,
        name: str,
        field: str,
        to: str,
        on_delete: str,
        on_update: str = "NO ACTION",
        violation_error_code: str | None = None,
        violation_error_message: str | None = None,
    ) -> None:
        super().__init__(
            name=name, violation_error_code=violation_error_code, violation_error_message=violation_error_message
        )
        for action in (on_delete, on_update):
            if action not in ACTIONS:
                raise ValueError(f"{action!r} is not one of {', '.join(ACTIONS)}.")
        self.field = field
        self.to = to
        self.on_delete = on_delete
        self.on_update = on_update

    def _sql_parts(self, model, schema_editor) -> dict[str, str]:
        field = model._meta.get_field(self.field)
        target = field.target_field
        quote = schema_editor.quote_name
        return {
            "table": quote(model._meta.db_table),
            "name": quote(self.name),
            "column": quote(field.column),
            "to_table": quote(target.model._meta.db_table),
            "to_column": quote(target.column),
            "actions": f"ON DELETE {self.on_delete} ON UPDATE {self.on_update}",
            "deferrable": schema_editor.connection.ops.deferrable_sql(),
        }

    def constraint_sql(self, model, schema_editor):
        # In a CREATE TABLE the referenced table may not exist yet: add the constraint
        # afterwards, as Django does with its own foreign keys.
        schema_editor.deferred_sql.append(self.create_sql(model, schema_editor))
        return None

    def create_sql(self, model, schema_editor) -> str:
        return (
            "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
            "REFERENCES {to_table} ({to_column}) {actions}{deferrable}".format(**self._sql_parts(model, schema_editor))
        )

    def remove_sql(self, model, schema_editor) -> str:
        parts = self._sql_parts(model, schema_editor)
        return f"ALTER TABLE {parts['table']} DROP CONSTRAINT IF EXISTS {parts['name']}"

    def validate(self, model, instance, exclude=None, using=None) -> None:
        """Nothing to check in Python: the field itself refers to an existing row."""

    def _check(self, model, connection) -> list[checks.CheckMessage]:
        def error(message: str) -> checks.Error:
            return checks.Error(f"{self.name}: {message}", obj=model, id="profiles.E001")

        try:
            field = model._meta.get_field(self.field)
        except Exception:
            return [error(f"'{self.field}' is not a field of {model._meta.label}.")]
        if not isinstance(field, models.ForeignKey):
            return [error(f"'{self.field}' is not a foreign key.")]
        problems = []
        if field.db_constraint:
            problems.append(error(f"'{self.field}' needs db_constraint=False (this declaration is its constraint)."))
        if field.related_model._meta.label != self.to:
            problems.append(error(f"'{self.field}' refers to {field.related_model._meta.label}, not to {self.to}."))
        expected = PYTHON_ACTIONS.get(field.remote_field.on_delete)
        if expected and self.on_delete not in expected:
            problems.append(
                error(f"ON DELETE {self.on_delete} does not match on_delete={field.remote_field.on_delete.__name__}.")
            )
        return problems

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs.update(field=self.field, to=self.to, on_delete=self.on_delete)
        if self.on_update != "NO ACTION":
            kwargs["on_update"] = self.on_update
        return path, args, kwargs

    def __eq__(self, other):
        if isinstance(other, ForeignKeyConstraint):
            return self.deconstruct() == other.deconstruct()
        return super().__eq__(other)

    def __repr__(self) -> str:
        return (
            f"<{self.__class__.__name__}: name={self.name!r} field={self.field!r} to={self.to!r} "
            f"on_delete={self.on_delete!r}>"
        )


def foreign_key(table: str, field: str, *, to: str, on_delete: str) -> ForeignKeyConstraint:
    """The foreign key of ``<table>.<field>`` with seed 003's policy: ``on_delete``, and ON UPDATE CASCADE."""
    return ForeignKeyConstraint(
        name=f"{table}_{field}_fk", field=field, to=to, on_delete=on_delete, on_update="CASCADE"
    )


# ---------------------------------------------------------------------------- triggers


def _sql_list(values: Iterable[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


class Versioning(pgtrigger.Trigger):
    """Version 1 on insert; ``version + 1`` and a fresh ``updated_at`` on every real change.

    Generated columns are left out when deciding whether a row changed (a BEFORE trigger
    sees them unset); so are ``version``, ``updated_at`` and ``updated_by``.
    """

    name = "versioning"
    when = pgtrigger.Before
    operation = pgtrigger.Insert | pgtrigger.Update
    declare = [("ignored", "text[]")]

    def get_func(self, model) -> str:
        generated = [f.column for f in model._meta.concrete_fields if f.generated]
        ignored = _sql_list([*generated, "version", "updated_at", "updated_by"])
        return f"""
        ignored := {ignored};
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
          NEW.updated_by := OLD.updated_by;
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
        """


class VersionHistory(pgtrigger.Trigger):
    """Every version, whole, into ``profile_version_history`` (who = the version's author)."""

    name = "version_history"
    when = pgtrigger.After
    operation = pgtrigger.Insert | pgtrigger.Update
    func = """
        IF TG_OP = 'INSERT' OR NEW.version <> OLD.version THEN
          INSERT INTO profile_version_history (id, profile_type, profile_id, version, data, created_at, created_by_id)
          VALUES (gen_random_uuid(), TG_TABLE_NAME, NEW.id, NEW.version, to_jsonb(NEW) - 'search_vector',
                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_at ELSE NEW.updated_at END,
                  CASE WHEN TG_OP = 'INSERT' THEN NEW.created_by ELSE NEW.updated_by END);
        END IF;
        RETURN NULL;
        """


def check_references(*, references: dict[str, str], in_use: str, also_on: Iterable[str] = ()) -> pgtrigger.Trigger:
    """References (``{column: referenced table}``) of the same account; live while ``in_use``.

    Runs on INSERT and on updates of the reference columns and of ``also_on`` (the columns
    ``in_use`` reads, ``account_id``). Each referenced row is read ``FOR SHARE``, so a
    concurrent soft delete of it waits for this transaction (and is then refused).
    """
    checks_sql = "".join(
        f"""
        IF NEW.{column} IS NOT NULL THEN
          SELECT account_id, deleted_at INTO ref_account, ref_deleted FROM {table} WHERE id = NEW.{column} FOR SHARE;
          IF FOUND THEN  -- a missing row is the foreign key's to report
            IF ref_account <> NEW.account_id THEN
              RAISE EXCEPTION '{table} % belongs to account %, not to account %', NEW.{column}, ref_account,
                NEW.account_id
                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_same_account';
            END IF;
            IF ({in_use}) AND ref_deleted IS NOT NULL THEN
              RAISE EXCEPTION '{table} % is deleted', NEW.{column}
                USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_live_references';
            END IF;
          END IF;
        END IF;"""  # noqa: S608 (table and column names from the models' declarations)
        for column, table in references.items()
    )
    return pgtrigger.Trigger(
        name="check_references",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.UpdateOf(*references, *also_on),
        declare=[("ref_account", "text"), ("ref_deleted", "timestamptz")],
        func=checks_sql + "\n        RETURN NEW;",
    )


def refuse_soft_delete_in_use(*, used_by: Iterable[tuple[str, str, str]]) -> pgtrigger.Trigger:
    """No soft delete while a row of ``used_by`` (``(table, column, "still uses it" condition)``) uses the record."""
    checks_sql = "".join(
        f"""
        SELECT id INTO user_id FROM {table} WHERE {column} = NEW.id AND ({condition}) LIMIT 1;
        IF user_id IS NOT NULL THEN
          RAISE EXCEPTION '% % is used by {table} %', TG_TABLE_NAME, NEW.id, user_id
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_in_use';
        END IF;"""  # noqa: S608 (table and column names from the models' declarations)
        for table, column, condition in used_by
    )
    return pgtrigger.Trigger(
        name="refuse_soft_delete",
        when=pgtrigger.Before,
        operation=pgtrigger.UpdateOf("deleted_at"),
        condition=pgtrigger.Q(old__deleted_at__isnull=True, new__deleted_at__isnull=False),
        declare=[("user_id", "uuid")],
        func=checks_sql + "\n        RETURN NEW;",
    )
