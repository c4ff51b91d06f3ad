"""Sequential testing, regression adjustment, segments, guardrails and holdouts.

* Experiments that exist keep the fixed-horizon test they were planned with
  (``sequential_testing`` false); new ones default to sequential testing.
* Participations get what was known at their first exposure: the device and the person's
  acquisition channel (from the attributes stored with the participation) and the Big Five
  result taken before the exposure (from ``engagement_quizresult``: the person's, or the
  visitor's by their anonymous id). Re-running the backfill changes nothing.
* ``experiments_hash_v2(seed, value)``: GrowthBook's hash v2 in SQL, so holdout membership
  (``experiments_hash_v2(seed, key) < share``) can be queried when measuring the programme.
"""

from decimal import Decimal

import django.db.models.deletion
import django.db.models.fields.json
import django.db.models.functions.comparison
import django.db.models.functions.datetime
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import experiments.models

TRAITS = """
jsonb_build_object(
    'percentiles', jsonb_build_object('N', r.scores->'percentiles'->'N', 'E', r.scores->'percentiles'->'E',
                                      'O', r.scores->'percentiles'->'O', 'A', r.scores->'percentiles'->'A',
                                      'C', r.scores->'percentiles'->'C'),
    'levels', jsonb_build_object('N', r.scores->'levels'->'N', 'E', r.scores->'levels'->'E',
                                 'O', r.scores->'levels'->'O', 'A', r.scores->'levels'->'A',
                                 'C', r.scores->'levels'->'C'),
    'norm_group', r.norm_group,
    'measured_at', to_jsonb(r.created_at))
"""

BACKFILL = f"""
UPDATE user_experiment_participation p
   SET device_type = CASE WHEN p.eligibility_criteria->'attributes'->>'device_type'
                               IN ('desktop', 'mobile', 'tablet', 'bot', 'other')
                          THEN p.eligibility_criteria->'attributes'->>'device_type' END,
       acquisition_channel = CASE WHEN jsonb_typeof(p.eligibility_criteria->'attributes'->'channel') = 'number'
                                  THEN (p.eligibility_criteria->'attributes'->>'channel')::smallint END
 WHERE p.device_type IS NULL AND p.acquisition_channel IS NULL;

UPDATE user_experiment_participation p
   SET pre_exposure_traits = t.traits
  FROM (SELECT DISTINCT ON (p.id) p.id, {TRAITS} AS traits
          FROM user_experiment_participation p
          JOIN engagement_quizresult r
            ON r.customer_id = p.user_id AND r.quiz_type = 'big_five' AND r.created_at < p.first_exposure_date
         WHERE p.user_id IS NOT NULL AND p.pre_exposure_traits IS NULL AND r.scores->'percentiles' ?& ARRAY['N', 'E', 'O', 'A', 'C']
         ORDER BY p.id, r.created_at DESC) t
 WHERE t.id = p.id;

UPDATE user_experiment_participation p
   SET pre_exposure_traits = t.traits
  FROM (SELECT DISTINCT ON (p.id) p.id, {TRAITS} AS traits
          FROM user_experiment_participation p
          JOIN engagement_quizresult r
            ON r.quiz_metadata->>'anonymous_id' = p.anonymous_id AND r.quiz_type = 'big_five'
           AND r.created_at < p.first_exposure_date
         WHERE p.user_id IS NULL AND p.pre_exposure_traits IS NULL AND r.scores->'percentiles' ?& ARRAY['N', 'E', 'O', 'A', 'C']
         ORDER BY p.id, r.created_at DESC) t
 WHERE t.id = p.id;
"""

# GrowthBook's FNV-1a over UTF-16 code units (``experiments.hashing.fnv1a32``) and hash v2.
HASH_FUNCTIONS = """
CREATE OR REPLACE FUNCTION experiments_fnv1a32(value text) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    h bigint := 2166136261;
    cp integer;
BEGIN
    FOR i IN 1 .. char_length(value) LOOP
        cp := ascii(substr(value, i, 1));
        IF cp > 65535 THEN
            cp := cp - 65536;
            h := ((h # (55296 + (cp >> 10))) * 16777619) & 4294967295;
            h := ((h # (56320 + (cp & 1023))) * 16777619) & 4294967295;
        ELSE
            h := ((h # cp) * 16777619) & 4294967295;
        END IF;
    END LOOP;
    RETURN h;
END
$$;

CREATE OR REPLACE FUNCTION experiments_hash_v2(seed text, value text) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT (experiments_fnv1a32(experiments_fnv1a32(seed || value)::text) % 10000) / 10000.0 $$;
"""

# How many distinct cells (variant, device, channel, Big Five segment) the participations make, as
# PostgreSQL statistics: the results' participants pass groups by them, and with these PostgreSQL plans
# a hash aggregate of about that many groups instead of multiplying the columns' counts as if they
# were independent (and sorting every participation).
STATISTICS = """
CREATE STATISTICS IF NOT EXISTS participation_segment_cells (ndistinct)
    ON variant_id, device_type, acquisition_channel, traits_segment FROM user_experiment_participation;
"""
DROP_STATISTICS = "DROP STATISTICS IF EXISTS participation_segment_cells;"

DROP_HASH_FUNCTIONS = """
DROP FUNCTION IF EXISTS experiments_hash_v2(text, text);
DROP FUNCTION IF EXISTS experiments_fnv1a32(text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_person_change_log"),
        ("engagement", "0008_quiz_result_anonymous_index"),
        ("experiments", "0004_lifecycle_triggers_pgtrigger"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Holdout",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "share",
                    models.DecimalField(
                        decimal_places=4,
                        default=Decimal("0"),
                        help_text="Share of people held out (0–0.5), e.g. 0.05 = 5 %.",
                        max_digits=5,
                    ),
                ),
                (
                    "seed",
                    models.CharField(
                        default=experiments.models.new_holdout_seed,
                        help_text="Hash seed; changing it draws a new holdout.",
                        max_length=100,
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(auto_now=True, db_default=django.db.models.functions.datetime.Now()),
                ),
            ],
            options={
                "db_table": "experiment_holdouts",
            },
        ),
        migrations.AddField(
            model_name="experiment",
            name="guardrail_threshold",
            field=models.DecimalField(
                db_default=Decimal("0.05"),
                decimal_places=4,
                default=Decimal("0.05"),
                help_text="Relative harm to a guardrail metric (gems, unsubscribes, bounces) that flags a variant (0.05 = 5 % worse).",
                max_digits=5,
            ),
        ),
        migrations.AddField(
            model_name="experiment",
            name="pre_exposure_window_days",
            field=models.PositiveSmallIntegerField(
                db_default=14,
                default=14,
                help_text="Days before the first exposure that count as the pre-exposure period.",
            ),
        ),
        migrations.AddField(
            model_name="experiment",
            name="regression_adjustment",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text="CUPED: adjust each metric with the same metric before exposure and, for participants who took the Big Five test before their exposure, their five domain percentiles.",
            ),
        ),
        # Existing experiments keep their fixed-horizon test; new ones are sequential.
        migrations.AddField(
            model_name="experiment",
            name="sequential_testing",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AlterField(
            model_name="experiment",
            name="sequential_testing",
            field=models.BooleanField(
                db_default=True,
                default=True,
                help_text="Always-valid p-values and intervals: results may be read at any time, every day. Off: a fixed-horizon test, only decidable once the planned sample is reached.",
            ),
        ),
        migrations.AddField(
            model_name="experiment",
            name="sequential_tuning",
            field=models.PositiveIntegerField(
                db_default=5000,
                default=5000,
                help_text="Expected total sample size: sequential intervals are narrowest around it (default 5,000).",
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="acquisition_channel",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="The person's acquisition channel at the first exposure (empty: a visitor).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="device_type",
            field=models.CharField(
                blank=True,
                choices=[
                    ("desktop", "Desktop"),
                    ("mobile", "Mobile"),
                    ("tablet", "Tablet"),
                    ("bot", "Bot"),
                    ("other", "Other"),
                ],
                help_text="Device at the first exposure.",
                max_length=20,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="pre_exposure_traits",
            field=models.JSONField(
                blank=True,
                help_text="Big Five domain percentiles, levels and norm group of the latest test taken before the first exposure (empty when none was).",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="trait_a",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform(
                        "A", django.db.models.fields.json.KeyTextTransform("percentiles", "pre_exposure_traits")
                    ),
                    models.FloatField(),
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="trait_c",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform(
                        "C", django.db.models.fields.json.KeyTextTransform("percentiles", "pre_exposure_traits")
                    ),
                    models.FloatField(),
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="trait_e",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform(
                        "E", django.db.models.fields.json.KeyTextTransform("percentiles", "pre_exposure_traits")
                    ),
                    models.FloatField(),
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="trait_n",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform(
                        "N", django.db.models.fields.json.KeyTextTransform("percentiles", "pre_exposure_traits")
                    ),
                    models.FloatField(),
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="trait_o",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.fields.json.KeyTextTransform(
                        "O", django.db.models.fields.json.KeyTextTransform("percentiles", "pre_exposure_traits")
                    ),
                    models.FloatField(),
                ),
                output_field=models.FloatField(null=True),
            ),
        ),
        migrations.AddField(
            model_name="participation",
            name="traits_segment",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Case(
                    models.When(
                        pre_exposure_traits__isnull=False,
                        then=django.db.models.functions.text.Concat(
                            django.db.models.fields.json.KeyTextTransform("norm_group", "pre_exposure_traits"),
                            models.Value("|"),
                            django.db.models.fields.json.KeyTextTransform(
                                "N", django.db.models.fields.json.KeyTextTransform("levels", "pre_exposure_traits")
                            ),
                            models.Value("|"),
                            django.db.models.fields.json.KeyTextTransform(
                                "E", django.db.models.fields.json.KeyTextTransform("levels", "pre_exposure_traits")
                            ),
                            models.Value("|"),
                            django.db.models.fields.json.KeyTextTransform(
                                "O", django.db.models.fields.json.KeyTextTransform("levels", "pre_exposure_traits")
                            ),
                            models.Value("|"),
                            django.db.models.fields.json.KeyTextTransform(
                                "A", django.db.models.fields.json.KeyTextTransform("levels", "pre_exposure_traits")
                            ),
                            models.Value("|"),
                            django.db.models.fields.json.KeyTextTransform(
                                "C", django.db.models.fields.json.KeyTextTransform("levels", "pre_exposure_traits")
                            ),
                            output_field=models.TextField(),
                        ),
                    ),
                    default=None,
                    output_field=models.TextField(),
                ),
                output_field=models.TextField(null=True),
            ),
        ),
        migrations.AddConstraint(
            model_name="experiment",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequential_tuning__gte", 100)), name="experiments_sequential_tuning_min"
            ),
        ),
        migrations.AddConstraint(
            model_name="experiment",
            constraint=models.CheckConstraint(
                condition=models.Q(("pre_exposure_window_days__gte", 1), ("pre_exposure_window_days__lte", 365)),
                name="experiments_pre_exposure_window_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="experiment",
            constraint=models.CheckConstraint(
                condition=models.Q(("guardrail_threshold__gt", 0), ("guardrail_threshold__lte", 1)),
                name="experiments_guardrail_threshold_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="participation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("device_type__isnull", True),
                    ("device_type__in", ["desktop", "mobile", "tablet", "bot", "other"]),
                    _connector="OR",
                ),
                name="participation_device_type_enum",
            ),
        ),
        migrations.AddConstraint(
            model_name="participation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("pre_exposure_traits__isnull", True),
                    ("pre_exposure_traits__has_key", "percentiles"),
                    _connector="OR",
                ),
                name="participation_traits_have_percentiles",
            ),
        ),
        migrations.AddField(
            model_name="holdout",
            name="brand",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.brand"
            ),
        ),
        migrations.AddConstraint(
            model_name="holdout",
            constraint=models.CheckConstraint(
                condition=models.Q(("share__gte", 0), ("share__lte", Decimal("0.5"))),
                name="experiment_holdouts_share_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="holdout",
            constraint=models.CheckConstraint(
                condition=models.Q(("seed", ""), _negated=True), name="experiment_holdouts_seed_not_blank"
            ),
        ),
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(fields=["conversion_type", "created_at"], name="conversions_type_time"),
        ),
        migrations.AddIndex(
            model_name="participation",
            index=models.Index(
                condition=models.Q(("pre_exposure_traits__isnull", False)),
                fields=["experiment"],
                name="participation_exp_traits",
            ),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.RunSQL(HASH_FUNCTIONS, DROP_HASH_FUNCTIONS),
        migrations.RunSQL(STATISTICS, DROP_STATISTICS),
    ]
