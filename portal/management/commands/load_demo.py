"""The whole demo, across apps; it lives in the rightmost app because it may call every app."""

import time

from django.core.management.base import BaseCommand

from customs.demo import demo_load, demo_logins_text
from declarations.demo import declarations_demo_load
from payments.demo import payments_demo_load
from risk.demo import risk_demo_load
from tariff.demo import tariff_demo_load
from transit.demo import transit_demo_load


class Command(BaseCommand):
    help = (
        "Load reference data and the demo (offices, parties, users, rates, tariff, declarations, "
        "criteria). Idempotent."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        demo_load()
        self.stdout.write(f"Kernel demo loaded ({time.monotonic() - started:.1f} s).")
        started = time.monotonic()
        tariff_demo_load()
        self.stdout.write(f"Demo tariff loaded ({time.monotonic() - started:.1f} s).")
        created = declarations_demo_load()
        self.stdout.write(f"Demo declarations: {created} created.")
        risk = risk_demo_load()
        self.stdout.write(
            f"Demo risk: {risk['criteria']} criteria created, {risk['scored']} declarations scored."
        )
        payments = payments_demo_load()
        self.stdout.write(
            f"Demo payments: {payments['guarantees']} guarantee, {payments['top_ups']} account top-up."
        )
        transit = transit_demo_load()
        self.stdout.write(
            f"Demo transit: {transit['lodged']} movements lodged, {transit['released']} released for transit."
        )
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(demo_logins_text())
