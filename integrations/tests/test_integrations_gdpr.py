"""The integrations (and engagement) parts of GDPR export and erasure."""

from __future__ import annotations

from accounts.models import DEFAULT_BRAND_SLUG, Brand
from accounts.tests.factories import CustomerFactory
from engagement import gdpr as engagement_gdpr
from engagement.models import Event
from focusedroom import registries
from integrations import gdpr
from integrations.models import AIProfile, OutboxMessage, WebhookLog


def test_registered_with_accounts(db):
    assert {"engagement", "integrations"} <= set(registries.gdpr_parts.names())


def test_export_and_erase(db):
    person = CustomerFactory(kit_subscriber_id="777")
    other = CustomerFactory()
    Event.objects.create(user=person, event_type="page_viewed", ip_address="10.0.0.1", user_agent="UA", page_url="/x")
    Event.objects.create(user=other, event_type="page_viewed", ip_address="10.0.0.2")
    pending = OutboxMessage.objects.create(user=person, event_name="gems_earned", event_data={"email": "x"})
    sent = OutboxMessage.objects.create(
        user=person, event_name="identify", action="identify", status="sent", event_data={"email": "x"}
    )
    WebhookLog.objects.create(
        source="customerio",
        webhook_type="bounced",
        event_id="e1",
        user=person,
        payload={"email": person.email},
        processed_successfully=True,
    )
    AIProfile.objects.create(user=person, churn_probability="0.4")

    events = engagement_gdpr.export(user=person)["events"]
    assert [e["event_type"] for e in events] == ["page_viewed"]
    assert events[0]["ip_address"] == "10.0.0.1"
    data = gdpr.export(user=person)
    assert len(data["outbox_messages"]) == 2 and len(data["webhook_deliveries"]) == 1
    assert data["ai_profile"]["churn_probability"] is not None

    engagement_gdpr.erase(user=person)
    gdpr.erase(user=person)
    event = Event.objects.get(user=person)
    assert (event.event_type, event.ip_address, event.user_agent, event.page_url) == ("page_viewed", None, "", "")
    assert Event.objects.get(user=other).ip_address == "10.0.0.2"
    assert not OutboxMessage.objects.filter(pk=pending.pk).exists()
    sent.refresh_from_db()
    assert sent.event_data == {}
    deletions = set(OutboxMessage.objects.filter(user=person, status="pending").values_list("destination", "action"))
    assert deletions == {("customerio", "delete"), ("kit", "subscriber_delete")}
    kit = OutboxMessage.objects.get(action="subscriber_delete")
    assert (kit.event_name, kit.event_data) == ("person_erased", {"subscriber_id": "777"})
    assert WebhookLog.objects.get().payload == {}
    assert not AIProfile.objects.filter(user=person).exists()


def test_through_the_accounts_erasure(db):
    from accounts.gdpr_services import person_erase, person_export
    from accounts.tests.factories import BrandFactory

    person = CustomerFactory(kit_subscriber_id="778", marketing_opt_in=True)
    other_brand = BrandFactory()
    OutboxMessage.objects.create(user=person, brand=other_brand, event_name="gems_earned", status="sent")
    Event.objects.create(user=person, event_type="page_viewed", ip_address="10.0.0.9")
    assert {"engagement", "integrations"} <= set(person_export(user=person)["parts"])

    person_erase(user=person)

    assert Event.objects.get(user=person).ip_address is None
    queued = OutboxMessage.objects.filter(user=person, status="pending")
    # one Customer.io deletion per workspace that heard of the person, one Kit unsubscription: no duplicates
    default_brand = Brand.objects.get(slug=DEFAULT_BRAND_SLUG)
    assert sorted(queued.filter(action="delete").values_list("brand_id", flat=True)) == sorted(
        [default_brand.pk, other_brand.pk]
    )
    assert list(queued.filter(destination="kit").values_list("action", "event_data")) == [
        ("subscriber_delete", {"subscriber_id": "778"})
    ]
    assert queued.count() == 3
