"""Demo people: customers across the three channels (idempotent by email)."""

from __future__ import annotations

import random

from django.db import transaction

from accounts.models import DEFAULT_BRAND_SLUG, Brand, CareerStage, CustomField, User

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


def demo_email(i: int) -> str:
    return f"demo.customer{i:05d}@example.com"


@transaction.atomic
def seed(*, scale: int) -> str:
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
