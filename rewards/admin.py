"""Operator console for rewards.

Wallets and the ledger are read-only: balances change only through the "Adjust
balance" and "Reverse" actions, which write ledger entries through the services.
Products, reward items, ranks and achievement configurations are editable: their forms
are validated by the catalogue service's rules and saved and deleted through the
catalogue services, as the API does.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from focusedroom.admin_tools import ReadOnlyAdmin
from focusedroom.context import RequestContext
from focusedroom.errors import ApplicationError
from focusedroom.forms import add_service_errors, error_message
from rewards import services
from rewards.forms import AdjustForm, RejectForm, ReverseForm, ReviewForm
from rewards.models import (
    AchievementConfig,
    AuditRun,
    EngagementReward,
    LedgerEntry,
    MemberRank,
    PendingCredit,
    Product,
    ProductScan,
    Rank,
    Redemption,
    Referral,
    RewardItem,
    UserAchievement,
    Wallet,
)


def _context(request) -> RequestContext:
    return RequestContext.from_request(request, source="console")


def _intermediate(modeladmin, request, queryset, *, form, title: str, action: str, template_note: str):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "queryset": queryset,
        "action": action,
        "note": template_note,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/rewards/action_form.html", context)


def _confirmed(
    modeladmin,
    request,
    queryset,
    *,
    form_class,
    call,
    done_message: str,
    title: str,
    action: str,
    note: str,
    label=str,
    initial=None,
):
    """A console action that asks first: the form on its own page, then ``call(obj, data)`` (a service)
    for each selected row once confirmed, telling staff each refusal. ``call`` returning ``False``
    (nothing to do) is not counted as done."""
    if "apply" not in request.POST:
        form = form_class(initial=initial() if initial else None)
    else:
        form = form_class(request.POST)
        if form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    done += call(obj, form.cleaned_data) is not False
                except (ValidationError, ApplicationError) as exc:
                    modeladmin.message_user(request, f"{label(obj)}: {error_message(exc)}", messages.ERROR)
            if done:
                modeladmin.message_user(request, done_message.format(done=done), messages.SUCCESS)
            return None
    return _intermediate(modeladmin, request, queryset, form=form, title=title, action=action, template_note=note)


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ("user", "balance", "lifetime_earned", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    list_filter = ("updated_at",)
    ordering = ("-id",)  # newest members first, on the primary key (updated_at is not indexed: HOT writes)
    readonly_fields = ("user", "balance", "lifetime_earned", "created_at", "updated_at")
    actions = ["adjust_balance"]

    def has_adjust_permission(self, request):
        return request.user.has_perm("rewards.adjust_wallet")

    @admin.action(description="Adjust balance (through a ledger entry)…", permissions=["adjust"])
    def adjust_balance(self, request, queryset):
        return _confirmed(
            self,
            request,
            queryset.select_related("user"),
            form_class=AdjustForm,
            initial=lambda: {"idempotency_key": uuid.uuid4().hex},
            call=lambda wallet, data: services.wallet_adjust(
                wallet=wallet,
                amount=data["amount"],
                reason=data["reason"],
                actor=request.user,
                idempotency_key=data["idempotency_key"],
                context=_context(request),
            ),
            label=lambda wallet: wallet.user,
            done_message="{done} wallet(s) adjusted.",
            title="Adjust balance",
            action="adjust_balance",
            note="Each selected wallet gets one ledger entry (an adjustment) with this amount and reason.",
        )


class ReversedFilter(admin.SimpleListFilter):
    title = "reversal"
    parameter_name = "is_reversal"

    def lookups(self, request, model_admin):
        return (("yes", "Reversals only"), ("no", "Not reversals"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(reverses__isnull=False)
        if self.value() == "no":
            return queryset.filter(reverses__isnull=True)
        return queryset


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "wallet_user", "kind", "amount", "reason", "brand", "actor_kind", "description")
    list_select_related = ("wallet__user", "brand")
    list_filter = ("kind", "reason", "brand", "actor_kind", ReversedFilter, "created_at")
    search_fields = ("wallet__user__email", "=idempotency_key", "description", "source")
    ordering = ("-created_at", "-id")
    raw_id_fields = ("wallet", "actor", "reverses", "lot")
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]
    actions = ["reverse_entries"]

    @admin.display(description="person", ordering="wallet__user__email")
    def wallet_user(self, obj):
        return obj.wallet.user

    def has_reverse_permission(self, request):
        return request.user.has_perm("rewards.reverse_ledgerentry")

    @admin.action(description="Reverse selected entries…", permissions=["reverse"])
    def reverse_entries(self, request, queryset):
        return _confirmed(
            self,
            request,
            queryset.select_related("brand"),
            form_class=ReverseForm,
            call=lambda entry, data: services.entry_reverse_by_staff(
                entry=entry, actor=request.user, reason=data["reason"], context=_context(request)
            )[1],
            label=lambda entry: f"Entry {entry.pk}",
            done_message="{done} entr(y/ies) reversed.",
            title="Reverse ledger entries",
            action="reverse_entries",
            note="Each entry gets a new entry of the opposite kind that references it; entries never change.",
        )


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "target", "cost", "status", "reversed_at")
    list_select_related = ("user", "product", "reward_item")
    list_filter = ("status", "created_at")
    search_fields = ("user__email", "product__sku", "product__name", "reward_item__name")
    raw_id_fields = ("user", "product", "reward_item", "entry", "reversal_entry", "reversed_by")
    readonly_fields = [f.name for f in Redemption._meta.fields]
    ordering = ("-created_at", "-id")
    actions = ["reverse_redemptions"]

    @admin.display(description="redeemed")
    def target(self, obj):
        return obj.target_name

    def has_reverse_permission(self, request):
        return request.user.has_perm("rewards.reverse_redemption")

    @admin.action(description="Reverse (refund) selected redemptions…", permissions=["reverse"])
    def reverse_redemptions(self, request, queryset):
        return _confirmed(
            self,
            request,
            queryset,
            form_class=ReverseForm,
            call=lambda redemption, data: services.redemption_reverse(
                redemption=redemption, actor=request.user, reason=data["reason"], context=_context(request)
            ),
            label=lambda redemption: f"Redemption {redemption.pk}",
            done_message="{done} redemption(s) reversed.",
            title="Reverse redemptions",
            action="reverse_redemptions",
            note="The gems are credited back with an entry that references the redemption's debit.",
        )


class CatalogueForm(forms.ModelForm):
    """A console form validated by the catalogue service's rules (``services.catalogue_validate``)."""

    def _post_clean(self):
        opts = self._meta
        try:
            self.instance = construct_instance(self, self.instance, opts.fields, opts.exclude)
        except ValidationError as exc:
            self._update_errors(exc)
        try:
            services.catalogue_validate(instance=self.instance, exclude=self._get_validation_exclusions())
        except ValidationError as exc:
            add_service_errors(self, exc)


class CatalogueAdmin(admin.ModelAdmin):
    """Saves and deletes through ``services.<service>_create/_update/_delete`` (the API's services)."""

    form = CatalogueForm
    service = ""
    instance_kwarg = ""

    def _service(self, verb: str):
        return getattr(services, f"{self.service}_{verb}")

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=CatalogueForm, **kwargs)

    def save_model(self, request, obj, form, change):
        fields = services.CATALOGUE_FIELDS[self.model]
        if change:
            data = {f: form.cleaned_data[f] for f in form.changed_data if f in fields}
            # The service reads the stored row again (locked) and applies the changed fields only.
            saved = self._service("update")(**{self.instance_kwarg: obj}, data=data, context=_context(request))
        else:
            data = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}
            saved = self._service("create")(data=data, context=_context(request))
        obj.pk = saved.pk
        obj._state.adding = False
        for field in ("created_at", "updated_at"):
            setattr(obj, field, getattr(saved, field))

    def delete_model(self, request, obj):
        self._service("delete")(**{self.instance_kwarg: obj}, context=_context(request))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            try:
                self.delete_model(request, obj)
            except (ValidationError, ApplicationError) as exc:
                self.message_user(request, f"“{obj}” was not deleted: {error_message(exc)}", messages.ERROR)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, ApplicationError) as exc:  # a concurrent change between validation and saving
            self.message_user(request, error_message(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Product)
class ProductAdmin(CatalogueAdmin):
    service = instance_kwarg = "product"
    list_display = ("name", "sku", "brand", "points_award", "redemption_cost", "msrp", "is_active", "is_featured")
    list_select_related = ("brand",)
    list_filter = ("brand", "is_active", "is_featured", "is_new", "is_limited", "product_form")
    search_fields = ("name", "sku", "product_line")
    list_editable = ("is_active",)
    readonly_fields = ("created_at", "updated_at")
    show_full_result_count = False


@admin.register(RewardItem)
class RewardItemAdmin(CatalogueAdmin):
    service = instance_kwarg = "reward_item"
    list_display = ("name", "key", "brand", "cost", "is_active")
    list_select_related = ("brand",)
    list_filter = ("brand", "is_active")
    search_fields = ("name", "key")
    prepopulated_fields = {"key": ("name",)}


@admin.register(Rank)
class RankAdmin(CatalogueAdmin):
    service = instance_kwarg = "rank"
    list_display = ("name", "key", "brand", "points_required", "point_multiplier", "is_active")
    list_select_related = ("brand",)
    list_filter = ("brand", "is_active")
    search_fields = ("name", "key")
    ordering = ("brand", "points_required")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self.message_user(
            request, "Ranks apply to new earnings at once; run manage.py recompute_ranks to re-rank every member."
        )


class AchievementConfigForm(CatalogueForm):
    class Meta:
        model = AchievementConfig
        fields = [
            "brand",
            "name",
            "description",
            "achievement_key",
            "achievement_type",
            "criteria",
            "rewards",
            "visibility",
            "metadata",
            "is_active",
        ]


@admin.register(AchievementConfig)
class AchievementConfigAdmin(CatalogueAdmin):
    service, instance_kwarg = "achievement_config", "config"
    form = AchievementConfigForm
    list_display = ("name", "achievement_key", "achievement_type", "brand", "is_active", "updated_at")
    list_select_related = ("brand",)
    list_filter = ("achievement_type", "brand", "is_active")
    search_fields = ("name", "achievement_key")
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "criteria" in form.changed_data:
            self.message_user(request, "Criteria changed: run manage.py recompute_achievements to rebuild progress.")


class HoldReasonFilter(admin.SimpleListFilter):
    title = "held because"
    parameter_name = "hold_reason"

    def lookups(self, request, model_admin):
        return Referral.HoldReason.choices

    def queryset(self, request, queryset):
        if self.value() in Referral.HoldReason.values:
            return queryset.filter(hold_reasons__contains=[self.value()])
        return queryset


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "referrer",
        "email",
        "status",
        "held_because",
        "expires_at",
        "converted_at",
        "points_awarded_to_referrer",
    )
    list_select_related = ("referrer",)
    list_filter = ("status", HoldReasonFilter, "brand", "created_at")
    search_fields = ("referrer__email", "email", "=referral_code", "=ip_address", "=visitor_id")
    raw_id_fields = ("referrer", "referee", "brand", "reviewed_by")
    readonly_fields = [f.name for f in Referral._meta.fields]
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ["approve_referrals", "reject_referrals"]

    @admin.display(description="held because")
    def held_because(self, obj):
        labels = dict(Referral.HoldReason.choices)
        return "; ".join(labels.get(r, r) for r in obj.hold_reasons) or "—"

    def has_review_permission(self, request):
        return request.user.has_perm("rewards.review_referral")

    @admin.action(description="Approve held referrals (pays when the email is verified)…", permissions=["review"])
    def approve_referrals(self, request, queryset):
        return _confirmed(
            self,
            request,
            queryset,
            form_class=ReviewForm,
            call=lambda referral, data: services.referral_approve(
                referral=referral, actor=request.user, note=data["note"], context=_context(request)
            ),
            done_message="{done} referral(s) approved.",
            title="Approve held referrals",
            action="approve_referrals",
            note="Each held referral is paid now if the new person verified their email, "
            "otherwise it converts when they do.",
        )

    @admin.action(description="Reject held referrals…", permissions=["review"])
    def reject_referrals(self, request, queryset):
        return _confirmed(
            self,
            request,
            queryset,
            form_class=RejectForm,
            call=lambda referral, data: services.referral_reject(
                referral=referral, actor=request.user, note=data["note"], context=_context(request)
            ),
            done_message="{done} referral(s) rejected.",
            title="Reject held referrals",
            action="reject_referrals",
            note="Nobody is paid for a rejected referral; the reason is kept with it.",
        )


@admin.register(PendingCredit)
class PendingCreditAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "amount", "reason", "brand", "status", "release_at", "cancel_reason")
    list_select_related = ("user", "brand")
    list_filter = ("status", "reason", "brand", "release_at")
    search_fields = ("user__email", "=idempotency_key", "source")
    raw_id_fields = ("user", "brand", "entry", "cancelled_by")
    readonly_fields = [f.name for f in PendingCredit._meta.fields]
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    actions = ["cancel_pending"]

    def has_cancel_permission(self, request):
        return request.user.has_perm("rewards.cancel_pendingcredit")

    @admin.action(description="Cancel selected pending gems…", permissions=["cancel"])
    def cancel_pending(self, request, queryset):
        return _confirmed(
            self,
            request,
            queryset,
            form_class=ReverseForm,
            call=lambda pending, data: services.pending_credit_cancel(
                pending=pending, actor=request.user, reason=data["reason"], context=_context(request)
            ),
            done_message="{done} pending credit(s) cancelled.",
            title="Cancel pending gems",
            action="cancel_pending",
            note="The member never receives these gems; the reason is kept with each. "
            "Gems already released are refused: reverse their ledger entry instead.",
        )


@admin.register(AuditRun)
class AuditRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "finished_at",
        "wallets_checked",
        "entries_checked",
        "differences",
        "lots_checked",
        "lot_differences",
        "clean",
    )
    readonly_fields = [f.name for f in AuditRun._meta.fields]
    ordering = ("-started_at",)

    @admin.display(boolean=True, description="clean")
    def clean(self, obj):
        return obj.is_clean


@admin.register(ProductScan)
class ProductScanAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "product", "day", "points_awarded", "multiplier")
    list_select_related = ("user", "product")
    list_filter = ("day",)
    search_fields = ("user__email", "product__sku")
    raw_id_fields = ("user", "product", "entry")
    readonly_fields = [f.name for f in ProductScan._meta.fields]
    ordering = ("-created_at", "-id")


@admin.register(EngagementReward)
class EngagementRewardAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "reward_type", "reward_amount", "day", "streak")
    list_select_related = ("user",)
    list_filter = ("reward_type", "day")
    search_fields = ("user__email",)
    raw_id_fields = ("user", "entry")
    readonly_fields = [f.name for f in EngagementReward._meta.fields]
    ordering = ("-created_at",)


@admin.register(UserAchievement)
class UserAchievementAdmin(ReadOnlyAdmin):
    list_display = ("user", "config", "progress", "completed", "completed_at", "points_rewarded")
    list_select_related = ("user", "config")
    list_filter = ("completed", "config")
    search_fields = ("user__email", "config__achievement_key")
    raw_id_fields = ("user", "config", "entry")
    readonly_fields = [f.name for f in UserAchievement._meta.fields]


@admin.register(MemberRank)
class MemberRankAdmin(ReadOnlyAdmin):
    list_display = ("user", "brand", "rank", "changed_at")
    list_select_related = ("user", "brand", "rank")
    list_filter = ("brand", "rank")
    search_fields = ("user__email",)
    readonly_fields = ("user", "brand", "rank", "changed_at")
