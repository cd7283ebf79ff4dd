"""What the payment services raise. Views and the API turn these into one error shape; every error has
a stable machine-readable ``code`` and a translated message, and names its ``field`` when it has one."""


class PaymentError(Exception):
    """A payment request that cannot be carried out; nothing was written."""

    code = "payment_error"
    status = 409

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **details):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.details = details


class PaymentNotAllowed(PaymentError):
    """The actor may not do this (HTTP 403)."""

    code = "not_authorised"
    status = 403


class PaymentInvalid(PaymentError):
    """The input is wrong (HTTP 400): a field is missing, malformed or refers to nothing."""

    code = "invalid"
    status = 400


class InsufficientFunds(PaymentError):
    """The pre-paid balance or the guarantee does not cover the amount; ``shortfall`` says by how much."""

    code = "insufficient_funds"

    def __init__(
        self,
        message: str,
        *,
        shortfall,
        available,
        required,
        code: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message, code=code, field=field, shortfall=str(shortfall), available=str(available))
        self.shortfall, self.available, self.required = shortfall, available, required


class CallbackRejected(PaymentError):
    """A bank callback that is refused. ``status`` is the HTTP status the bank gets back."""

    code = "callback_rejected"

    def __init__(self, message: str, *, code: str, status: int = 422, record: bool = True):
        super().__init__(message, code=code)
        self.status = status
        # Recorded in the callback log for reconciliation (a callback whose sender is proven); a bad
        # signature or a stale timestamp is not, since anybody can send one.
        self.record = record
