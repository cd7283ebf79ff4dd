"""Reconciliation: a bank's statement (CSV) against the payments booked from its callbacks.

The statement has a header line and one line per credit:
``value_date,transaction_id,reference,amount,currency,description`` (ISO dates, amounts as decimal
strings with a point). Each line is matched by the bank's transaction id: same amount, *matched*;
another amount, *amount differs*; no payment but a refused callback, *callback was rejected* (with
its reason); nothing at all, *no payment in Kerwen*. Payments of the bank in the statement's period
that no line mentions are listed too (``statement_missing_payments``).

A file with any malformed line is refused whole, every problem named by line and column.
"""

import csv
import datetime
import hashlib
import io
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from customs.services.audit import audit_record
from payments.choices import CallbackOutcome, MatchStatus
from payments.models import BankCallback, BankStatement, BankStatementLine, Payment
from payments.services.errors import PaymentError, PaymentInvalid, PaymentNotAllowed
from payments.services.inputs import MAXIMUM
from payments.services.permissions import is_finance_staff

COLUMNS = ("value_date", "transaction_id", "reference", "amount", "currency", "description")
MAX_LINES = 100_000


class StatementInvalid(PaymentInvalid):
    code = "statement_invalid"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems[:20]), field="file")
        self.problems = problems


def _rows(content: bytes) -> list[dict]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementInvalid([_("The file is not UTF-8 text.")]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS[:5] if name not in header]
    if missing:
        raise StatementInvalid([_("Line 1: missing columns %(columns)s.") % {"columns": ", ".join(missing)}])
    problems, rows = [], []
    for number, raw in enumerate(reader, start=2):
        row = {(key or "").strip(): (value or "").strip() for key, value in raw.items() if key}
        if not any(row.values()):
            continue
        if len(rows) >= MAX_LINES:
            raise StatementInvalid([_("The statement has more than %(count)s lines.") % {"count": MAX_LINES}])
        try:
            value_date = datetime.date.fromisoformat(row["value_date"])
        except ValueError:
            problems.append(_("Line %(line)s, value_date: not a date (YYYY-MM-DD).") % {"line": number})
            value_date = None
        try:
            amount = Decimal(row["amount"])
            if not amount.is_finite() or amount.as_tuple().exponent < -2 or abs(amount) > MAXIMUM:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(_("Line %(line)s, amount: not an amount.") % {"line": number})
            amount = None
        if not row["transaction_id"]:
            problems.append(_("Line %(line)s, transaction_id: empty.") % {"line": number})
        if len(row["currency"]) != 3:
            problems.append(_("Line %(line)s, currency: not a three-letter code.") % {"line": number})
        rows.append({**row, "line_number": number, "value_date": value_date, "amount": amount})
    if problems:
        raise StatementInvalid(problems)
    if not rows:
        raise StatementInvalid([_("The statement has no lines.")])
    return rows


def _matches(bank, rows: list[dict]) -> list[tuple[str, Payment | None, str]]:
    """Each row's match, read in bulk: the bank's payments and refused callbacks of the file's
    transaction ids, a few queries whatever the file's length."""
    transaction_ids = sorted({row["transaction_id"] for row in rows})
    payments, rejected = {}, {}
    for start in range(0, len(transaction_ids), 5000):
        chunk = transaction_ids[start : start + 5000]
        payments.update(
            (payment.bank_transaction_id, payment)
            for payment in Payment.objects.filter(bank=bank, bank_transaction_id__in=chunk)
        )
        for callback in BankCallback.objects.filter(
            bank=bank, transaction_id__in=chunk, outcome=CallbackOutcome.REJECTED
        ).order_by("received_at"):
            rejected[callback.transaction_id] = callback  # the latest refusal wins
    matches = []
    for row in rows:
        payment = payments.get(row["transaction_id"])
        if payment is not None:
            if payment.amount == row["amount"] and payment.currency == row["currency"].upper():
                matches.append((MatchStatus.MATCHED, payment, ""))
            else:
                note = _("Kerwen booked %(amount)s %(currency)s.") % {
                    "amount": payment.amount,
                    "currency": payment.currency,
                }
                matches.append((MatchStatus.AMOUNT_DIFFERS, payment, note))
        elif row["transaction_id"] in rejected:
            callback = rejected[row["transaction_id"]]
            matches.append(
                (MatchStatus.REJECTED_CALLBACK, None, f"{callback.error_code}: {callback.message}"[:255])
            )
        else:
            matches.append((MatchStatus.UNMATCHED, None, ""))
    return matches


def statement_import(*, actor, bank, file_name: str, content: bytes) -> BankStatement:
    """Import and match a statement (supervisors and administrators). The same file of the same bank
    is imported once."""
    if not is_finance_staff(actor):
        raise PaymentNotAllowed(_("Only a supervisor or an administrator may import bank statements."))
    digest = hashlib.sha256(content).hexdigest()
    earlier = BankStatement.objects.filter(bank=bank, content_sha256=digest).first()
    if earlier is not None:
        raise PaymentError(
            _("This statement was imported already, on %(day)s (%(file)s).")
            % {"day": earlier.imported_at.date().isoformat(), "file": earlier.file_name},
            code="statement_already_imported",
            field="file",
        )
    rows = _rows(content)
    with transaction.atomic():
        statement = BankStatement.objects.create(
            bank=bank,
            file_name=file_name[:255],
            content_sha256=digest,
            date_from=min(row["value_date"] for row in rows),
            date_to=max(row["value_date"] for row in rows),
            imported_by=actor,
        )
        lines = []
        for row, (match, payment, note) in zip(rows, _matches(bank, rows), strict=True):
            lines.append(
                BankStatementLine(
                    statement=statement,
                    line_number=row["line_number"],
                    value_date=row["value_date"],
                    transaction_id=row["transaction_id"][:64],
                    reference=row.get("reference", "")[:35],
                    amount=row["amount"],
                    currency=row["currency"].upper(),
                    description=row.get("description", "")[:255],
                    match=match,
                    payment=payment,
                    note=note,
                )
            )
        BankStatementLine.objects.bulk_create(lines, batch_size=5000)
        summary = {status: sum(1 for line in lines if line.match == status) for status in MatchStatus.values}
        audit_record(
            action="payments.statement.imported",
            actor=actor,
            obj=statement,
            after={"file": file_name, "lines": len(lines), **summary},
        )
        return statement


def statement_missing_payments(statement: BankStatement):
    """Payments of the statement's bank, booked in its period, that no line of it mentions."""
    mentioned = statement.lines.values_list("transaction_id", flat=True)
    return (
        Payment.objects.filter(
            bank=statement.bank,
            paid_at__date__gte=statement.date_from,
            paid_at__date__lte=statement.date_to,
        )
        .exclude(bank_transaction_id__in=mentioned)
        .select_related("order", "trader")
        .order_by("paid_at")
    )
