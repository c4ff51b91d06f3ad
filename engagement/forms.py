"""Forms of the engagement pages: the Big Five test (one long form that works without JavaScript)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django import forms
from django.core import signing
from django.utils import timezone

from accounts.selectors import CareerStage
from accounts.services import career_stage_value
from engagement.bigfive.inventory import ITEMS, SCALE
from engagement.models import BlogEngagement, BlogEngagementType, Sex
from focusedroom.forms import NormalizedChoiceField

DEMOGRAPHIC_FIELDS = ("name", "age", "profession", "career_stage", "purpose", "sex", "email", "opt_in")
TRACKING_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "referrer")
STARTED_SALT = "engagement.bigfive.started"
STARTED_MAX_AGE = 24 * 3600


def started_token() -> str:
    """When the test was opened, signed (a client cannot claim another start time)."""
    return signing.dumps(int(timezone.now().timestamp()), salt=STARTED_SALT)


def started_at(token: str) -> datetime | None:
    """The moment a ``started_token`` was made, or None when it is missing, forged or too old."""
    if not token:
        return None
    try:
        seconds = signing.loads(token, salt=STARTED_SALT, max_age=STARTED_MAX_AGE)
    except signing.BadSignature:
        return None
    return datetime.fromtimestamp(int(seconds), tz=UTC) if isinstance(seconds, int) else None


OPT_IN_LABEL = (
    "Yes, send me FocusedRoom tips, offers and news by email. I can withdraw this consent at any time "
    "(unsubscribe link in every email)."
)


class BigFiveForm(forms.Form):
    """Demographics (all optional) and the 120 statements (all required)."""

    name = forms.CharField(max_length=255, required=False, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    age = forms.IntegerField(
        min_value=13,
        max_value=120,
        required=False,
        error_messages={
            "min_value": "Age must be between 13 and 120.",
            "max_value": "Age must be between 13 and 120.",
            "invalid": "Enter your age as a whole number.",
        },
        help_text="Used to compare you with people of your age.",
    )
    profession = forms.CharField(max_length=255, required=False)
    career_stage = NormalizedChoiceField(
        choices=[("", "—"), *CareerStage.choices], required=False, normalize=career_stage_value
    )
    purpose = forms.CharField(
        label="Primary goal",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What do you want this test to help you with? (e.g. find a career that fits me)",
    )
    sex = forms.ChoiceField(
        label="Sex (for norms, optional)",
        choices=[("", "Prefer not to say"), *Sex.choices],
        required=False,
        widget=forms.RadioSelect,
        help_text="Published norms are by sex; without it we compare you with everyone of your age.",
    )
    email = forms.EmailField(
        max_length=254,
        required=False,
        label="Email (optional)",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="To keep your results and compare future tests. Without it your test stays anonymous.",
    )
    opt_in = forms.BooleanField(required=False, label=OPT_IN_LABEL)

    session_identifier = forms.UUIDField(required=False, widget=forms.HiddenInput)
    utm_source = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)
    utm_medium = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)
    utm_campaign = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)
    referrer = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)
    started = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)
    compare = forms.CharField(max_length=100, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.member = member
        if member is not None:  # a logged-in member's test is saved to their account: no email asked
            del self.fields["email"]
            if member.marketing_opt_in:
                del self.fields["opt_in"]
        for item in ITEMS:
            self.fields[item.id] = forms.TypedChoiceField(
                label=item.text,
                choices=SCALE,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Please answer this statement.", "invalid_choice": "Choose 1 to 5."},
            )
        if not self.is_bound and not self.initial.get("session_identifier"):
            self.initial["session_identifier"] = uuid.uuid4()
        if not self.is_bound and not self.initial.get("started"):
            self.initial["started"] = started_token()

    def item_fields(self):
        """(item, bound field) pairs in inventory order, for the template."""
        return [(item, self[item.id]) for item in ITEMS]

    def demographic_fields(self):
        return [self[name] for name in DEMOGRAPHIC_FIELDS if name in self.fields]

    def unanswered_count(self) -> int:
        return sum(1 for item in ITEMS if item.id in self.errors)

    def first_unanswered(self) -> str:
        """The id of the first statement left unanswered (the error summary links to it)."""
        return next((item.id for item in ITEMS if item.id in self.errors), "")

    def answers(self) -> dict[str, int]:
        return {item.id: self.cleaned_data[item.id] for item in ITEMS}

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "answers": self.answers(),
            "email": data.get("email") or "",
            "name": data.get("name") or "",
            "age": data.get("age"),
            "profession": data.get("profession") or "",
            "career_stage": data.get("career_stage") or "",
            "purpose": data.get("purpose") or "",
            "sex": data.get("sex") or "",
            "opt_in": bool(data.get("opt_in")),
            "session_identifier": data.get("session_identifier"),
            "tracking": {k: data.get(k) or "" for k in TRACKING_FIELDS},
            "started_at": started_at(data.get("started") or ""),
        }


class BlogEngagementForm(forms.Form):
    """The widget's fallback form (no JavaScript)."""

    engagement_type = forms.ChoiceField(choices=BlogEngagementType.choices)
    feedback_text = forms.CharField(
        max_length=BlogEngagement.FEEDBACK_MAX_LENGTH, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
