from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from customs.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo staff accounts (demo only)."

    def handle(self, *args, **options):
        try:
            key = bytes.fromhex(DEMO_TOTP_KEY)
        except ValueError as error:
            raise CommandError("The demo TOTP key is not hex.") from error
        self.stdout.write(f"{totp(key):06d}")
