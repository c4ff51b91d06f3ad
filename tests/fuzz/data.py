"""The data the API fuzzer starts from: the demo data, a staff superuser and a member, each with a
token, and ids of existing records for the operations no link reaches."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.management import call_command

from accounts import services as accounts_services
from accounts.models import User
from engagement.models import QuizResult
from rewards import services as rewards_services


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
    return FuzzData(staff_token=staff_token, member_token=member_token, parameters=parameters)


class _Quiet:
    def write(self, *args, **kwargs) -> None:
        pass

    def flush(self) -> None:
        pass
