"""manage.py data_quality, import_customers and export_customers."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import CustomerFactory, StaffFactory
from engagement.customer_csv import customers_export_text, customers_import_file
from engagement.models import QuizResult
from engagement.tests.helpers import random_answers, submit

pytestmark = pytest.mark.django_db


def test_data_quality_passes_on_clean_data():
    submit(email="dq1@example.com", name="A", age=30, career_stage="senior", purpose="Lead")
    submit(email="dq1@example.com", answers=random_answers(2))
    submit(email="dq2@example.com")
    submit()
    out = io.StringIO()
    call_command("data_quality", stdout=out)
    text = out.getvalue()
    assert "Customers with several tests:   1" in text and "All invariants hold." in text
    assert "(1 anonymous)" in text


def test_data_quality_fails_on_a_report_id_gap():
    result = submit(email="gap@example.com")
    QuizResult.objects.filter(pk=result.pk).update(report_id=3)  # reports 3 only: 1 and 2 missing
    err = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("data_quality", stdout=io.StringIO(), stderr=err)
    assert exc.value.returncode == 1
    assert "report_id gaps" in err.getvalue()


def test_data_quality_json():
    submit(email="json@example.com")
    out = io.StringIO()
    call_command("data_quality", "--json", stdout=out)
    assert '"customers": 1' in out.getvalue()


CSV = """email_id,name,age,profession,career_stage,purpose,channel_id,opt_in
New.One@Example.com,New One,31,Nurse,Early Career,Grow,2,yes
existing@example.com,,45,,,,,
existing@example.com,Dup,,,,,,
bad-email,X,,,,,,
ok2@example.com,Ok,12,,,,,
ok3@example.com,Ok,,,astronaut,,9,maybe
"""


def test_import_creates_updates_and_rejects_with_reasons(tmp_path):
    existing = CustomerFactory(email="existing@example.com", name="Keep Me", age=40, channel_id=3)
    path = tmp_path / "customers.csv"
    path.write_text(CSV)
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_customers", str(path), stdout=out)
    assert exc.value.returncode == 2
    text = out.getvalue()
    assert "1 created, 1 updated, 0 unchanged, 4 rejected" in text
    assert "line 4: rejected existing@example.com: email_id: Same email as line 3." in text
    assert "line 5: rejected" in text and "Enter a valid email address." in text
    assert "Age must be between 13 and 120." in text
    assert "Unknown channel 9." in text and "opt_in: Use true/false" in text
    new = User.objects.get(email="new.one@example.com")
    assert (new.name, new.age, new.career_stage, new.channel_id, new.marketing_opt_in) == (
        "New One",
        31,
        "early_career",
        2,
        True,
    )
    existing.refresh_from_db()
    assert (existing.name, existing.age, existing.channel_id) == ("Keep Me", 45, 3)  # blank never erases


def test_import_is_idempotent_and_round_trips_the_export():
    CustomerFactory(email="a@example.com", name="A", age=22, career_stage="student", marketing_opt_in=True)
    submit(email="b@example.com", name="B", purpose="Understand myself")
    exported = customers_export_text()
    report = customers_import_file(stream=io.StringIO(exported))
    assert (len(report.created), len(report.updated), len(report.unchanged), report.rejected) == (0, 0, 2, [])
    assert report.unchanged == ["a@example.com", "b@example.com"]


def test_import_dry_run_saves_nothing(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("email,name\nfresh@example.com,Fresh\n")
    out = io.StringIO()
    call_command("import_customers", str(path), "--dry-run", stdout=out)
    assert "Dry run (nothing saved): 1 created" in out.getvalue()
    assert not User.objects.filter(email="fresh@example.com").exists()


def test_import_rejects_staff_emails_and_bad_headers():
    StaffFactory(email="boss@focusedroom.local")
    report = customers_import_file(stream=io.StringIO("email_id,name\nboss@focusedroom.local,X\n"))
    assert report.rejected == [(2, "boss@focusedroom.local", "email_id: This email belongs to a staff account.")]
    bad = customers_import_file(stream=io.StringIO("mail,name\nx@example.com,X\n"))
    assert bad.rejected[0][0] == 1 and "email_id" in bad.rejected[0][2]
    extra = customers_import_file(stream=io.StringIO("email_id,shoe_size\nx@example.com,42\n"))
    assert "shoe_size" in extra.rejected[0][2]


def test_missing_file_is_a_clean_error():
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_customers", "/nonexistent/file.csv")


def test_export_to_stdout_and_file(tmp_path):
    submit(email="exp@example.com", name="Exp", age=50)
    StaffFactory()
    out = io.StringIO()
    call_command("export_customers", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[0].split(",")[-1] == "tests" and lines[1].endswith(",1")
    target = tmp_path / "out.csv"
    call_command("export_customers", "--output", str(target), stderr=io.StringIO())
    assert target.read_text().count("exp@example.com") == 1
