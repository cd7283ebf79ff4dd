from django.core.management.base import BaseCommand

from customs.demo import demo_load, demo_logins_text


class Command(BaseCommand):
    help = "Load reference data and the demo (offices, parties, users, today's rates). Idempotent."

    def handle(self, *args, **options):
        demo_load()
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(demo_logins_text())
