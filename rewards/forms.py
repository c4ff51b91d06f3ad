from django import forms

from accounts import selectors as accounts_selectors
from rewards.models import Goal, Product


class ScanForm(forms.Form):
    sku = forms.CharField(label="Product code (SKU)", max_length=100, help_text="Printed under the QR code.")
    brand = forms.ModelChoiceField(
        label="Brand", queryset=accounts_selectors.brands(), to_field_name="slug", empty_label=None
    )


class GoalForm(forms.Form):
    goal_name = forms.CharField(label="Name of the goal", max_length=255)
    target_points = forms.IntegerField(
        label="Gems to reach",
        min_value=1,
        max_value=100_000_000,
        required=False,
        help_text="Leave empty for a product goal: the product's price is used.",
    )
    product = forms.ModelChoiceField(
        label="Product (optional)",
        queryset=Product.objects.filter(is_active=True, redemption_cost__isnull=False).select_related("brand"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        data["goal_type"] = Goal.Type.WISHLIST_ITEM if data.get("product") else Goal.Type.CUSTOM
        return data


class ReverseForm(forms.Form):
    """Console: why entries or redemptions are reversed."""

    reason = forms.CharField(label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class AdjustForm(forms.Form):
    """Console: adjust balances through the ledger."""

    amount = forms.IntegerField(
        label="Amount (gems)",
        help_text="Positive to credit, negative to debit.",
        min_value=-1_000_000,
        max_value=1_000_000,
    )
    reason = forms.CharField(label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Enter an amount other than 0.")
        return amount


class ReviewForm(forms.Form):
    """Console: a note on approving held referrals (optional)."""

    note = forms.CharField(label="Note", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RejectForm(forms.Form):
    """Console: why held referrals are rejected."""

    note = forms.CharField(label="Why rejected", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
