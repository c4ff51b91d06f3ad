"""One-click links get their own hashed tokens (log-in and unsubscribe apart); email changes wait for
the new address's link; sessions know whose they are.

The clear ``action_token`` column goes: links sent before this migration stop working (people use
a newer email's link, or log in). Open sessions move to ``accounts_session`` with their person's id
(the rows of ``django_session`` stay as they were), so nobody is logged out by the deploy.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def copy_sessions(apps, schema_editor):
    """Every unexpired session of ``django_session`` into ``accounts_session``, with its person."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    connection = schema_editor.connection
    if "django_session" not in connection.introspection.table_names():
        return
    Session = apps.get_model("accounts", "Session")
    User = apps.get_model("accounts", "User")
    decoder = SessionStore()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT session_key, session_data, expire_date FROM django_session WHERE expire_date > %s",
            [timezone.now()],
        )
        rows = cursor.fetchall()
    people = set()
    decoded = []
    for key, data, expire in rows:
        try:
            user_id = int(decoder.decode(data).get(SESSION_KEY))
        except (TypeError, ValueError):
            user_id = None
        decoded.append((key, data, expire, user_id))
        if user_id is not None:
            people.add(user_id)
    known = set(User.objects.filter(pk__in=people).values_list("pk", flat=True))
    Session.objects.bulk_create(
        [
            Session(
                session_key=key, session_data=data, expire_date=expire, user_id=user_id if user_id in known else None
            )
            for key, data, expire, user_id in decoded
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_person_change_log"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="user",
            name="action_token",
        ),
        migrations.RemoveField(
            model_name="user",
            name="action_token_issued_at",
        ),
        migrations.CreateModel(
            name="ActionToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "purpose",
                    models.CharField(choices=[("login", "Log in"), ("unsubscribe", "Unsubscribe")], max_length=20),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                    ),
                ),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="action_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "accounts_action_token",
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["user", "purpose"], name="action_token_user_purpose")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("purpose__in", ["login", "unsubscribe"])), name="action_token_purpose_valid"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("token_hash__regex", "^[0-9a-f]{64}$")), name="action_token_hash_sha256"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))), name="action_token_expiry"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("used_at__isnull", True), ("purpose", "login"), _connector="OR"),
                        name="action_token_only_login_is_used_up",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="EmailChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("new_email", models.CharField(max_length=254)),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now
                    ),
                ),
                ("expires_at", models.DateTimeField()),
                ("used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="email_changes",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "accounts_email_change",
                "ordering": ["-created_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "new_email",
                                django.db.models.functions.text.Lower(
                                    django.db.models.functions.text.Trim("new_email")
                                ),
                            ),
                            models.Q(("new_email", ""), _negated=True),
                        ),
                        name="email_change_normalised",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("token_hash__regex", "^[0-9a-f]{64}$")), name="email_change_hash_sha256"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("expires_at__gt", models.F("created_at"))), name="email_change_expiry"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Session",
            fields=[
                (
                    "session_key",
                    models.CharField(max_length=40, primary_key=True, serialize=False, verbose_name="session key"),
                ),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "db_table": "accounts_session",
                "indexes": [models.Index(fields=["user"], name="accounts_session_user")],
            },
        ),
        migrations.RunPython(copy_sessions, migrations.RunPython.noop),
    ]
