from django.core.management.base import BaseCommand, CommandError

from rewards import services


class Command(BaseCommand):
    help = (
        "Recompute every wallet's balance and lifetime earned from the ledger, replay its lots; "
        "exit 1 on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-store", action="store_true", help="Do not record the run (AuditRun) for the console.")

    def handle(self, *args, no_store: bool = False, **options):
        run = services.rewards_audit(store=not no_store)
        self.stdout.write(
            f"{run.wallets_checked} wallets, {run.entries_checked} ledger entries, {run.lots_checked} lots checked."
        )
        if not run.is_clean:
            for diff in run.details:
                if "lots" in diff:
                    issues = "; ".join(diff["lots"])
                    self.stderr.write(f"wallet {diff['wallet_id']} (person {diff['user_id']}): {issues}")
                    continue
                self.stderr.write(
                    f"wallet {diff['wallet_id']} (person {diff['user_id']}): balance {diff['balance']} vs ledger "
                    f"{diff['ledger_balance']}, lifetime {diff['lifetime_earned']} vs ledger "
                    f"{diff['ledger_lifetime_earned']}"
                )
            raise CommandError(
                f"{run.differences} wallet(s) differ from the ledger, {run.lot_differences} wallet(s) from their lots."
            )
        self.stdout.write(self.style.SUCCESS("Clean: every balance matches the ledger and its lots."))
