"""Background announcements: every step at most once per key, failures isolated and raised for a retry."""

from __future__ import annotations

import pytest
from django.dispatch import Signal

from focusedroom.delivery import DeliveryIncomplete, Step, run_once, signal_steps
from focusedroom.models import DeliveryReceipt


@pytest.mark.django_db(transaction=True)
def test_all_steps_in_one_transaction_then_never_again():
    ran = []
    steps = [Step("a", lambda: ran.append("a")), Step("b", lambda: ran.append("b"))]
    run_once(key="k:1", steps=steps)
    run_once(key="k:1", steps=steps)
    assert ran == ["a", "b"]
    assert set(DeliveryReceipt.objects.values_list("key", flat=True)) == {"k:1/a", "k:1/b"}
    run_once(key="k:2", steps=steps)
    assert ran == ["a", "b", "a", "b"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_step_does_not_hold_back_the_others_and_is_raised():
    ran, attempts = [], []

    def write(name):
        DeliveryReceipt.objects.create(key=f"effect-of-{name}")  # a database write, as a receiver does
        ran.append(name)

    def flaky():
        attempts.append(1)
        if len(attempts) <= 2:  # fails in the shared transaction and on its own
            raise RuntimeError("down")
        write("flaky")

    steps = [Step("a", lambda: write("a")), Step("flaky", flaky), Step("c", lambda: write("c"))]
    with pytest.raises(DeliveryIncomplete) as failure:
        run_once(key="k", steps=steps)
    assert failure.value.failed == ["flaky"]
    # The first attempt's "a" rolled back with the shared transaction; each step then ran alone.
    assert set(DeliveryReceipt.objects.filter(key__startswith="effect-of-").values_list("key", flat=True)) == {
        "effect-of-a",
        "effect-of-c",
    }
    run_once(key="k", steps=steps)  # the retry: only the step without a receipt
    assert ran.count("a") == 2 and ran.count("c") == 1 and ran.count("flaky") == 1  # one "a" rolled back
    assert DeliveryReceipt.objects.filter(key__startswith="effect-of-").count() == 3


@pytest.mark.django_db(transaction=True)
def test_steps_run_together_open_no_savepoint_and_a_swallowed_database_error_falls_back_to_steps_alone():
    from django.db import IntegrityError, connection, transaction
    from django.test.utils import CaptureQueriesContext

    def nested_write(name):
        with transaction.atomic():  # a service's own block: a savepoint, were it not for run_once
            DeliveryReceipt.objects.create(key=f"effect-of-{name}")

    def write_unless_there():
        """Writes, and on a duplicate goes on quietly: needs a savepoint to do so."""
        try:
            with transaction.atomic():
                DeliveryReceipt.objects.create(key="shared-effect")
        except IntegrityError:
            pass

    with CaptureQueriesContext(connection) as queries:
        run_once(key="sp", steps=[Step("a", lambda: nested_write("a")), Step("b", lambda: nested_write("b"))])
    assert not [q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert connection.features.uses_savepoints  # restored

    DeliveryReceipt.objects.create(key="shared-effect")  # the duplicate the next step meets
    run_once(key="swallow", steps=[Step("a", lambda: nested_write("c")), Step("b", write_unless_there)])
    # The shared transaction broke at the duplicate (nothing said so) and rolled back; each step then
    # ran alone, once: the first step's effect is there.
    effects = set(DeliveryReceipt.objects.filter(key__startswith="effect-of-").values_list("key", flat=True))
    assert effects == {"effect-of-a", "effect-of-b", "effect-of-c"}
    assert DeliveryReceipt.objects.filter(key__startswith="swallow/").count() == 2


def test_signal_steps_call_every_receiver_like_send():
    signal = Signal()
    seen = []

    def one(sender, **kwargs):
        seen.append(("one", sender, kwargs["x"]))

    def two(sender, **kwargs):
        seen.append(("two", sender, kwargs["x"]))

    signal.connect(one, weak=False)
    signal.connect(two, weak=False)
    steps = signal_steps(signal, label="s", sender=int, x=5)
    assert [s.name for s in steps] == [
        "s:focusedroom.tests.test_delivery.test_signal_steps_call_every_receiver_like_send.<locals>.one",
        "s:focusedroom.tests.test_delivery.test_signal_steps_call_every_receiver_like_send.<locals>.two",
    ]
    for step in steps:
        step.run()
    assert seen == [("one", int, 5), ("two", int, 5)]
