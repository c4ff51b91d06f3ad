import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Customer, StaffUser, Subscriber, User


@pytest.mark.django_db
class TestUserModel:
    def test_create_user_normalises_email_and_has_unusable_password_without_one(self):
        user = User.objects.create_user("  Ada.Lovelace@Example.COM ")
        assert user.email == "ada.lovelace@example.com"
        assert not user.has_usable_password()
        assert not user.is_staff and not user.is_superuser

    def test_create_user_with_password(self):
        user = User.objects.create_user("b@example.com", "s3cret-pass!")
        assert user.check_password("s3cret-pass!")

    def test_create_superuser(self):
        admin = User.objects.create_superuser("Root@Example.com", "s3cret-pass!")
        assert admin.is_staff and admin.is_superuser and admin.email == "root@example.com"

    def test_email_is_required(self):
        with pytest.raises(ValueError):
            User.objects.create_user("   ")

    def test_case_insensitive_uniqueness_is_enforced_by_the_database(self):
        User.objects.create_user("same@example.com")
        # Bypass save() normalisation entirely: raw SQL with another letter case.
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_user (email, password, name, first_name, last_name, phone_number, profession,"
                " career_stage, purpose, country_code, time_zone, marketing_opt_in, is_guest, is_email_verified,"
                " kit_subscriber_id, kit_state, is_staff, is_active, is_superuser)"
                " VALUES ('SAME@example.com', '!', '', '', '', '', '', '', '', '', 'UTC', false, false, false,"
                " '', 'unconfirmed', false, true, false)"
            )

    def test_database_refuses_an_unnormalised_email(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.all_objects.bulk_create([User(email="Mixed@Example.com", password="!")])

    def test_database_refuses_duplicate_through_bulk_insert(self):
        User.objects.create_user("dup@example.com")
        with pytest.raises(IntegrityError), transaction.atomic():
            User.all_objects.bulk_create([User(email="dup@example.com", password="!")])

    def test_age_range_is_a_database_constraint(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create_user("young@example.com", age=9)

    def test_career_stage_is_a_database_constraint(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.all_objects.bulk_create([User(email="cs@example.com", password="!", career_stage="wizard")])


@pytest.mark.django_db
def test_customer_proxy_excludes_staff_and_soft_deleted_people():
    from django.utils import timezone

    customer = User.objects.create_user("c@example.com")
    staff = User.objects.create_user("s@example.com", is_staff=True)
    gone = User.objects.create_user("gone@example.com", deleted_at=timezone.now())
    assert list(Customer.objects.all()) == [customer]
    assert Subscriber is Customer
    assert list(StaffUser.objects.all()) == [staff]
    assert not User.objects.filter(pk=gone.pk).exists()
    assert User.all_objects.filter(pk=gone.pk).exists()


@pytest.mark.django_db
def test_soft_deleted_person_cannot_log_in(client):
    from django.utils import timezone

    User.objects.create_user("left@example.com", "s3cret-pass!", deleted_at=timezone.now())
    assert not client.login(email="left@example.com", password="s3cret-pass!")
