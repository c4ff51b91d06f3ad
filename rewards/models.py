"""Insight Gems: products and the loyalty programme of each brand."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class Product(models.Model):
    """A product a member can scan, wish for or redeem (seed 004 ``products``)."""

    class StrainType(models.TextChoices):
        SATIVA = "Sativa"
        INDICA = "Indica"
        HYBRID = "Hybrid"

    brand = models.ForeignKey("accounts.Brand", on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    msrp = models.DecimalField("MSRP", max_digits=10, decimal_places=2)
    points_award = models.PositiveIntegerField(
        help_text="Insight Gems awarded for a scan (before the rank multiplier)."
    )
    product_line = models.CharField(max_length=100, blank=True, default="")
    product_form = models.CharField(max_length=100, blank=True, default="", help_text="e.g. Book, Course, Journal.")
    strain_name = models.CharField(max_length=100, blank=True, default="")
    strain_type = models.CharField(max_length=10, blank=True, default="", choices=StrainType.choices)
    potency_thc_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    potency_cbd_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    dominant_terpene = models.CharField(max_length=100, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    is_featured = models.BooleanField(default=False)
    is_new = models.BooleanField(default=False)
    is_limited = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    class Meta:
        ordering = ["brand", "name"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "brand"], name="rewards_product_sku_brand_unique"),
            models.CheckConstraint(condition=Q(msrp__gte=0), name="rewards_product_msrp_gte_0"),
            models.CheckConstraint(
                condition=Q(strain_type__in=["", "Sativa", "Indica", "Hybrid"]),
                name="rewards_product_strain_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["sku"], name="rewards_product_sku")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"
