from django.core.management.base import BaseCommand, CommandError

from customs.models import AuditEvent
from customs.services.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exits non-zero if any row was edited or deleted."

    def handle(self, *args, **options):
        problems = audit_verify()
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"The audit trail is broken: {len(problems)} problem(s).")
        self.stdout.write(
            self.style.SUCCESS(f"Audit trail intact: {AuditEvent.objects.count()} events verified.")
        )
