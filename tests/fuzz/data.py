"""The data the API fuzzer starts from: the demo data, a staff superuser and a member, each with a
token, and ids of existing records for the operations no link reaches."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.management import call_command

from accounts import services as accounts_services
from accounts.models import Brand, Channel, User
from engagement.models import QuizResult
from experiments.models import Experiment
from profiles.models import BrandGuidelines, Budget, CampaignProfileUsage, ProfileContainer, TargetCustomerProfile
from rewards import services as rewards_services
from rewards.models import AchievementConfig, Product, Rank, RewardItem

DETAIL_READS = [
    ("/api/v1/customer-profiles/{id}/", TargetCustomerProfile, "id"),
    ("/api/v1/brand-guidelines/{id}/", BrandGuidelines, "id"),
    ("/api/v1/budgets/{id}/", Budget, "id"),
    ("/api/v1/profile-containers/{id}/", ProfileContainer, "id"),
    ("/api/v1/campaign-usages/{id}/", CampaignProfileUsage, "id"),
    ("/api/v1/products/{id}/", Product, "id"),
    ("/api/v1/ranks/{id}/", Rank, "id"),
    ("/api/v1/reward-items/{id}/", RewardItem, "id"),
    ("/api/v1/achievement-configs/{id}/", AchievementConfig, "id"),
    ("/api/v1/experiments/{key}/", Experiment, "key"),
    ("/api/v1/brands/{slug}/", Brand, "slug"),
    ("/api/v1/channels/{id}/", Channel, "id"),
]


@dataclass
class FuzzData:
    staff_token: str
    member_token: str
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)  # path -> {parameter: value}


def prepare(*, scale: int = 8) -> FuzzData:
    accounts_services.reference_data_ensure()
    call_command("seed_demo", scale=scale, stdout=_Quiet())
    staff = User.objects.create_superuser(email="fuzz-staff@focusedroom.test", password="Fuzz-staff-2026!")
    member = User.objects.create_user(email="fuzz-member@focusedroom.test", password="Fuzz-member-2026!")
    rewards_services.member_enrol(user=member)
    _, staff_token = accounts_services.api_token_create(user=staff, name="fuzz")
    _, member_token = accounts_services.api_token_create(user=member, name="fuzz")
    parameters: dict[str, dict[str, str]] = {}
    customer = User.objects.filter(is_staff=False).exclude(pk=member.pk).order_by("pk").first()
    if customer is not None:
        parameters["/api/v1/customers/{id}/"] = {"id": str(customer.pk)}
    result = QuizResult.objects.order_by("pk").first()
    if result is not None:
        parameters["/api/v1/assessments/results/{public_id}/"] = {"public_id": str(result.public_id)}
        parameters["/api/v1/assessments/big-five/{public_id}/"] = {"public_id": str(result.public_id)}
    # Reads of existing records (writes reach the records they create through the schema's links).
    for path, model, name in DETAIL_READS:
        row = model.objects.order_by("pk").first()
        if row is not None:
            parameters[path] = {name: str(getattr(row, "pk" if name == "id" else name))}
    return FuzzData(staff_token=staff_token, member_token=member_token, parameters=parameters)


class _Quiet:
    def write(self, *args, **kwargs) -> None:
        pass

    def flush(self) -> None:
        pass
