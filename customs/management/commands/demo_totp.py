from django.core.management.base import BaseCommand

from customs.demo_secrets import demo_totp_code


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo staff accounts (demo only)."

    def handle(self, *args, **options):
        self.stdout.write(demo_totp_code())
