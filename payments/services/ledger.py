"""The double-entry ledger: accounts, balanced journals, reversals.

Every movement of money is one journal of entries that sum to zero (debit positive, credit negative),
in one currency. ``journal_post`` refuses an unbalanced journal before writing anything, and the
database refuses one too (a deferred constraint trigger, migration 0002), as it refuses any UPDATE or
DELETE of a journal or an entry: a correction is ``journal_reverse``, a new journal of opposite entries.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from customs.money import round_money, to_decimal
from customs.services.audit import audit_record
from payments.choices import AccountKind, JournalKind
from payments.models import Account, Entry, Journal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Line:
    """One entry to post: a debit when ``amount`` is positive, a credit when negative."""

    account: Account
    amount: Decimal
    declaration_id: int | None = None
    office_code: str = ""
    tax_type: str = ""


def national_currency() -> str:
    return settings.NATIONAL_CURRENCY


def _account(kind: str, code: str, name: str, **links) -> Account:
    """The account ``code``, opened on first use. Safe under concurrency: the code is unique."""
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                kind=kind, code=code, name=name, currency=national_currency(), **links
            )
    except IntegrityError:
        return Account.objects.get(code=code)


def prepaid_account(trader) -> Account:
    return _account(
        AccountKind.PREPAID, f"PREPAID-{trader.taxpayer_id}", f"Pre-paid: {trader.name}", trader=trader
    )


def revenue_account(tax_type: str) -> Account:
    return _account(AccountKind.REVENUE, f"REVENUE-{tax_type}", f"Revenue: {tax_type}", tax_type=tax_type)


def clearing_account(bank) -> Account:
    return _account(AccountKind.BANK_CLEARING, f"CLEARING-{bank.code}", f"Clearing: {bank.name}", bank=bank)


def cash_account(office) -> Account:
    return _account(AccountKind.CASH, f"CASH-{office.code}", f"Cash desk: {office.code}", office=office)


def guarantee_account(guarantee) -> Account:
    return _account(
        AccountKind.GUARANTEE,
        f"GUARANTEE-{guarantee.reference}",
        f"Guarantee {guarantee.reference}",
        trader=guarantee.trader,
    )


def account_balance(account: Account) -> Decimal:
    """The balance on the account's normal side: what a trader has on its pre-paid account, what the
    revenue account has collected, what a bank holds for customs."""
    total = Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or ZERO
    return total if account.is_debit_normal else -total


def journal_post(*, kind: str, lines: list[Line], actor=None, memo: str = "", reverses=None) -> Journal:
    """Write one balanced journal. Inside the caller's transaction (the payment it belongs to)."""
    if not lines:
        raise ValueError("A journal needs entries")
    amounts = [round_money(to_decimal(line.amount)) for line in lines]
    if any(amount != line.amount for amount, line in zip(amounts, lines, strict=True)):
        raise ValueError("Ledger amounts must be rounded to the minor unit before posting")
    if sum(amounts, ZERO) != ZERO:
        raise ValueError(f"Unbalanced journal: entries sum to {sum(amounts, ZERO)}")
    currencies = {line.account.currency for line in lines}
    if len(currencies) != 1:
        raise ValueError(f"A journal is in one currency, not {sorted(currencies)}")
    now = timezone.now()
    journal = Journal.objects.create(
        kind=kind,
        occurred_at=now,
        memo=memo[:255],
        actor=actor if getattr(actor, "pk", None) else None,
        reverses=reverses,
    )
    Entry.objects.bulk_create(
        [
            Entry(
                journal=journal,
                account=line.account,
                amount=line.amount,
                declaration_id=line.declaration_id,
                office_code=line.office_code,
                tax_type=line.tax_type,
                occurred_at=now,
            )
            for line in lines
            if line.amount != ZERO
        ]
    )
    return journal


def journal_reverse(*, actor, journal: Journal, reason: str) -> Journal:
    """Cancel a journal by posting its opposite. A journal is reversed at most once."""
    with transaction.atomic():
        locked = Journal.objects.select_for_update().get(pk=journal.pk)
        if Journal.objects.filter(reverses=locked).exists():
            raise ValueError(f"Journal {locked.pk} is already reversed")
        lines = [
            Line(
                account=entry.account,
                amount=-entry.amount,
                declaration_id=entry.declaration_id,
                office_code=entry.office_code,
                tax_type=entry.tax_type,
            )
            for entry in locked.entries.select_related("account")
        ]
        reversal = journal_post(
            kind=JournalKind.REVERSAL, lines=lines, actor=actor, memo=reason, reverses=locked
        )
        audit_record(
            action="payments.journal.reversed",
            actor=actor,
            obj=locked,
            after={"reversal": reversal.pk, "reason": reason},
        )
        return reversal
