import factory

from accounts.models import Brand, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    name = factory.Faker("name")
    channel_id = 1
    password = factory.PostGenerationMethodCall("set_password", None)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CustomerFactory(UserFactory):
    is_staff = False


class StaffFactory(UserFactory):
    is_staff = True
    channel_id = None
    email = factory.Sequence(lambda n: f"staff{n}@focusedroom.local")


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
