import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from transit.signing import jwks


class Command(BaseCommand):
    help = (
        "Write the public keys that sign transit documents, as a JWK Set, to a file or to standard output: "
        "the jwks.json that border posts copy for `python -m transit.verify`."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", "-o", type=Path, default=None, help="file to write (default: standard output)"
        )

    def handle(self, *args, output, **options):
        document = jwks()
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(
            _("Wrote %(count)d public key(s) to %(path)s.") % {"count": len(document["keys"]), "path": output}
        )
