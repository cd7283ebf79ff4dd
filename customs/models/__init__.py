"""Models of the shared kernel: reference data, parties, users, audit, numbering, API keys, notifications,
events and webhooks."""

from .audit import AuditChainHead, AuditEvent
from .events import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .notifications import Notification
from .numbering import DocumentSequence
from .parties import Broker, BrokerAuthorisation, Trader
from .reference import (
    AdditionalProcedureCode,
    Country,
    CountryGroup,
    Currency,
    CustomsOffice,
    DocumentType,
    ExchangeRate,
    Incoterm,
    PackageKind,
    ProcedureCode,
    TransportMode,
    UnitOfMeasure,
)
from .users import ApiClient, User

__all__ = [
    "AdditionalProcedureCode",
    "ApiClient",
    "AuditChainHead",
    "AuditEvent",
    "Broker",
    "BrokerAuthorisation",
    "Country",
    "CountryGroup",
    "Currency",
    "CustomsOffice",
    "DocumentSequence",
    "DocumentType",
    "Event",
    "ExchangeRate",
    "Incoterm",
    "Notification",
    "PackageKind",
    "ProcedureCode",
    "Trader",
    "TransportMode",
    "UnitOfMeasure",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
