from django.core.management.base import BaseCommand

from focusedroom.context import RequestContext
from rewards import services
from rewards.services.expiry import LOOKBACK_DAYS, WARN_DAYS


class Command(BaseCommand):
    help = (
        "Expire gems whose lot is due (one expiry ledger entry per lot) and warn members 14 days before; "
        "run every hour. Running it twice writes nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument("--warn-days", type=int, default=WARN_DAYS, help="Warn this many days before (14).")
        parser.add_argument(
            "--lookback-days",
            type=int,
            default=LOOKBACK_DAYS,
            help=f"Look for lots due up to this many days ago ({LOOKBACK_DAYS}); raise it after a long outage.",
        )

    def handle(self, *args, warn_days: int, lookback_days: int, **options):
        done = services.lots_expire(
            warn_days=warn_days, lookback_days=lookback_days, context=RequestContext.system(source="command")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{done['wallets']} wallet(s): {done['expired_lots']} lot(s) expired ({done['expired_gems']} gems), "
                f"{done['warned_lots']} lot(s) warned, {done['closed_spent']} spent lot(s) closed."
            )
        )
