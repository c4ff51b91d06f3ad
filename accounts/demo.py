"""Demo people: customers across the three channels (idempotent by email)."""

from __future__ import annotations

import random

from django.db import transaction

from accounts.models import DEFAULT_BRAND_SLUG, Brand, CareerStage, CustomField, User
from focusedroom.bulk import bulk_enabled, bulk_execute, bulk_fetchone, bulk_session  # noqa: F401

FIRST = [
    "Ada",
    "Bruno",
    "Chloé",
    "Dev",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Iker",
    "Jonas",
    "Kemi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yara",
    "Zoe",
]
LAST = [
    "Almeida",
    "Brennan",
    "Chen",
    "Diallo",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ito",
    "Jansen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Tanaka",
]
PROFESSIONS = [
    "Software Engineer",
    "Teacher",
    "Nurse",
    "Designer",
    "Product Manager",
    "Accountant",
    "Student",
    "Executive",
    "Researcher",
    "Sales Lead",
    "Entrepreneur",
    "Writer",
]
PURPOSES = [
    "Find a career that fits me",
    "Lead my team better",
    "Build better habits",
    "Understand myself",
    "Improve my relationships",
    "Prepare for a career change",
    "Reduce stress at work",
]


def _sql_array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


# Customer n (1…scale) gets the same email as the per-object path; its other fields come
# from a hash of n, so the data set is the same on every run.
BULK_CUSTOMERS_SQL = f"""
INSERT INTO accounts_user (
    password, is_superuser, email, name, first_name, last_name, phone_number, age, profession, career_stage,
    purpose, channel_id, country_code, time_zone, marketing_opt_in, marketing_opt_in_at, is_guest,
    is_email_verified, email_verified_at, kit_subscriber_id, kit_state,
    is_staff, is_active, created_at, updated_at
)
SELECT '!' || md5('demo-unusable-' || g), false,
       'demo.customer' || CASE WHEN g < 100000 THEN lpad(g::text, 5, '0') ELSE g::text END || '@example.com',
       CASE WHEN h %% 100 < 92 THEN first || ' ' || last ELSE '' END, first, last, '',
       CASE WHEN h %% 10 < 8 THEN 18 + h %% 53 END,
       CASE WHEN h %% 4 < 3 THEN ({_sql_array(PROFESSIONS)})[1 + (h / 7) %% {len(PROFESSIONS)}] ELSE '' END,
       CASE WHEN h %% 25 < 23 THEN ({_sql_array(list(CareerStage.values))})[1 + (h / 11) %% {len(CareerStage.values)}]
            ELSE '' END,
       CASE WHEN h %% 10 < 7 THEN ({_sql_array(PURPOSES)})[1 + (h / 13) %% {len(PURPOSES)}] ELSE '' END,
       CASE WHEN h %% 20 < 14 THEN 1 WHEN h %% 20 < 17 THEN 2 ELSE 3 END,
       (ARRAY['US', 'GB', 'DE', 'FR', 'CA', 'BR', 'IN', 'JP', ''])[1 + (h / 17) %% 9], 'UTC',
       h %% 100 < 55, CASE WHEN h %% 100 < 55 THEN joined END, false,
       h %% 100 < 60, CASE WHEN h %% 100 < 60 THEN joined + interval '5 minutes' END,
       '', 'unconfirmed', false, true, joined, joined
FROM generate_series(1, %(scale)s) AS g
CROSS JOIN LATERAL (SELECT (hashtext('demo-customer-' || g) & 2147483647) AS h) AS hashed
CROSS JOIN LATERAL (
    SELECT ({_sql_array(FIRST)})[1 + h %% {len(FIRST)}] AS first,
           ({_sql_array(LAST)})[1 + (h / 3) %% {len(LAST)}] AS last,
           -- customers joined over the last two years, more of them recently
           now() - make_interval(secs => (730 * 86400) * power((h %% 1000000) / 1000000.0, 1.6)) AS joined
) AS person
ON CONFLICT DO NOTHING
"""  # noqa: S608 (built from this module's constants only)


def seed_bulk(*, scale: int) -> str:
    with transaction.atomic():
        bulk_session()
        created = bulk_execute(BULK_CUSTOMERS_SQL, {"scale": scale})
    fields = seed_custom_fields()
    return f"{created} customers created (bulk SQL), {scale - created} already there, {fields} custom fields"


def demo_email(i: int) -> str:
    return f"demo.customer{i:05d}@example.com"


@transaction.atomic
def seed(*, scale: int) -> str:
    if bulk_enabled(scale):
        return seed_bulk(scale=scale)
    rng = random.Random(42)
    existing = set(User.all_objects.filter(email__startswith="demo.customer").values_list("email", flat=True))
    new = []
    for i in range(1, scale + 1):
        email = demo_email(i)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        profile = {
            "name": f"{first} {last}" if rng.random() < 0.92 else "",
            "age": rng.randint(18, 70) if rng.random() < 0.8 else None,
            "profession": rng.choice(PROFESSIONS) if rng.random() < 0.75 else "",
            "career_stage": rng.choice(CareerStage.values) if rng.random() < 0.92 else "",
            "purpose": rng.choice(PURPOSES) if rng.random() < 0.7 else "",
            "channel_id": rng.choices([1, 2, 3], weights=[70, 15, 15])[0],
            "marketing_opt_in": rng.random() < 0.55,
        }
        if email in existing:
            continue
        user = User(email=email, first_name=first, last_name=last, **profile)
        user.set_unusable_password()
        new.append(user)
    User.all_objects.bulk_create(new, batch_size=5000)
    fields = seed_custom_fields()
    return f"{len(new)} customers created, {len(existing)} already there, {fields} custom fields"


DEMO_CUSTOM_FIELDS = [
    ("focus_time", "When do you focus best?", "select", ["Early morning", "Late morning", "Afternoon", "Evening"]),
    ("learning_style", "How do you prefer to learn?", "radio", ["Reading", "Listening", "Doing"]),
    ("weekly_digest", "Send me the weekly focus digest", "checkbox", None),
    ("current_project", "What are you working on right now?", "text", None),
]


def seed_custom_fields() -> int:
    """Profile questions of the default brand (idempotent by key)."""
    brand = Brand.objects.get(slug=DEFAULT_BRAND_SLUG)
    for order, (key, label, field_type, options) in enumerate(DEMO_CUSTOM_FIELDS, start=1):
        CustomField.objects.update_or_create(
            brand=brand,
            field_key=key,
            defaults={"field_label": label, "field_type": field_type, "field_options": options, "field_order": order},
        )
    return len(DEMO_CUSTOM_FIELDS)
