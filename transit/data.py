"""The data of a transit declaration (T1) as plain values: what the lodgement service takes, what a
CC015C message is read into and written from, and what the transit accompanying document prints.

Dates are ``datetime.date``, amounts and masses ``Decimal``, codes upper-case strings. Nothing here
touches the database.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class PartyData:
    """A principal (holder of the procedure), consignor, consignee or carrier."""

    identification: str = ""  # taxpayer id / EORI-like number
    name: str = ""
    street: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""  # ISO 3166 alpha-2


@dataclass
class TransitItemData:
    number: int
    commodity_code: str  # 6 to 10 digits
    description: str
    packages_number: int
    package_kind: str  # UN/ECE rec. 21 code, e.g. "CT"
    gross_mass: Decimal  # kg
    net_mass: Decimal | None = None
    value: Decimal | None = None  # in ``currency``
    currency: str = ""
    country_of_dispatch: str = ""
    country_of_destination: str = ""


@dataclass
class TransitData:
    """A T1 as lodged (or as a CC015C carries it)."""

    lrn: str
    declaration_type: str = "T1"
    departure_office: str = ""  # customs office code, e.g. "TMA01"
    destination_office: str = ""
    transit_offices: list[str] = field(default_factory=list)  # in route order
    principal: PartyData = field(default_factory=PartyData)
    consignor: PartyData | None = None
    consignee: PartyData | None = None
    carrier: PartyData | None = None
    transport_identity: str = ""  # plate of the means of transport at departure
    transport_nationality: str = ""  # ISO 3166 alpha-2
    containers: list[str] = field(default_factory=list)
    seals: list[str] = field(default_factory=list)
    itinerary: list[str] = field(default_factory=list)  # countries of routing, ISO alpha-2
    time_limit: datetime.date | None = None  # the date by which the goods must reach destination
    guarantee_reference: str = ""
    previous_document: str = ""  # an export declaration or manifest reference
    items: list[TransitItemData] = field(default_factory=list)
    mrn: str = ""  # given on release
    issued_at: datetime.datetime | None = None

    @property
    def total_packages(self) -> int:
        return sum(item.packages_number for item in self.items)

    @property
    def total_gross_mass(self) -> Decimal:
        return sum((item.gross_mass for item in self.items), Decimal(0))
