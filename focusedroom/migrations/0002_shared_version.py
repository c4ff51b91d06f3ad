from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("focusedroom", "0001_counter")]

    operations = [
        migrations.CreateModel(
            name="SharedVersion",
            fields=[
                ("name", models.CharField(max_length=100, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={"db_table": "focusedroom_shared_version"},
        ),
    ]
