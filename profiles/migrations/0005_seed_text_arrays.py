"""Seed 003's array columns as ``TEXT[]`` (they were ``varchar(255)[]``), keeping every row.

``interests``, ``brand_values`` and ``campaign_ids`` feed each table's generated
``search_vector``, and PostgreSQL does not change the type of a column a generated column
uses: the generated column (and its GIN index) is dropped, the type changed (``USING
col::text[]`` keeps the values), and the generated column rebuilt from the rows — all
through the schema editor, in the migration's transaction. The 255-character limit per
item stays, as a validator.
"""

import django.contrib.postgres.fields
import django.core.validators
from django.db import migrations, models

ARRAYS = {
    # model name: (array column, GIN index on search_vector)
    "targetcustomerprofile": ("interests", "tcp_search_gin"),
    "brandguidelines": ("brand_values", "bg_search_gin"),
    "budget": ("campaign_ids", "budget_search_gin"),
}


def _field(base_field, plain_base_field):
    return django.contrib.postgres.fields.ArrayField(
        base_field=base_field,
        blank=True,
        db_default=models.Value(
            [], output_field=django.contrib.postgres.fields.ArrayField(base_field=plain_base_field)
        ),
        default=list,
        size=None,
    )


def text_array():
    return _field(models.TextField(validators=[django.core.validators.MaxLengthValidator(255)]), models.TextField())


def varchar_array():
    return _field(models.CharField(max_length=255), models.CharField(max_length=255))


def _retype(apps, schema_editor, make_old_field, make_new_field):
    for model_name, (column, index_name) in ARRAYS.items():
        model = apps.get_model("profiles", model_name)
        search_vector = model._meta.get_field("search_vector")
        index = next(i for i in model._meta.indexes if i.name == index_name)
        old, new = make_old_field(), make_new_field()
        for field in (old, new):
            field.set_attributes_from_name(column)
            field.model = model
        schema_editor.remove_index(model, index)
        schema_editor.remove_field(model, search_vector)
        schema_editor.alter_field(model, old, new, strict=True)
        schema_editor.add_field(model, search_vector)
        schema_editor.add_index(model, index)


def forwards(apps, schema_editor):
    _retype(apps, schema_editor, varchar_array, text_array)


def backwards(apps, schema_editor):
    _retype(apps, schema_editor, text_array, varchar_array)


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0004_database_rules_declared"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(model_name="brandguidelines", name="brand_values", field=text_array()),
                migrations.AlterField(model_name="budget", name="campaign_ids", field=text_array()),
                migrations.AlterField(model_name="targetcustomerprofile", name="interests", field=text_array()),
            ],
        ),
    ]
