"""The index of the participants with pre-exposure traits holds every column the results' traits
pass reads (an index-only scan instead of one visit per participant's page). Built concurrently
before the narrower index it replaces is dropped: exposures keep being written meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("experiments", "0007_impression_partitions_brand"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="participation",
            index=models.Index(
                condition=models.Q(("pre_exposure_traits__isnull", False)),
                fields=["experiment"],
                include=(
                    "variant",
                    "id",
                    "was_eligible_at_exposure",
                    "has_multiple_exposures",
                    "trait_n",
                    "trait_e",
                    "trait_o",
                    "trait_a",
                    "trait_c",
                ),
                name="participation_traits",
            ),
        ),
        RemoveIndexConcurrently(model_name="participation", name="participation_exp_traits"),
    ]
