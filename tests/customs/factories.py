"""factory_boy factories of the kernel."""

import datetime

import factory
from django.contrib.auth.models import Group

from customs import models
from customs.choices import OfficeKind, OfficeRole


class CountryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Country
        django_get_or_create = ("code",)

    code = "TM"
    name_en = "Turkmenistan"
    name_ru = "Туркменистан"
    name_tk = "Türkmenistan"
    alpha3 = "TKM"


class CurrencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Currency
        django_get_or_create = ("code",)

    code = "USD"
    name_en = "US Dollar"
    minor_unit = 2


class OfficeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CustomsOffice
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TM{n:03d}")
    name_en = factory.Sequence(lambda n: f"Office {n}")
    kind = OfficeKind.INLAND
    roles = factory.LazyFunction(lambda: [OfficeRole.IMPORT, OfficeRole.EXPORT])
    country = factory.SubFactory(CountryFactory)


class TraderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Trader

    taxpayer_id = factory.Sequence(lambda n: f"1010{n:08d}")
    name = factory.Sequence(lambda n: f"Trader {n} HJ")
    address = "Ashgabat"
    country = factory.SubFactory(CountryFactory)


class BrokerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Broker

    licence_number = factory.Sequence(lambda n: f"BR-{n:05d}")
    name = factory.Sequence(lambda n: f"Broker {n}")
    licence_valid_from = datetime.date(2020, 1, 1)


class BrokerAuthorisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BrokerAuthorisation

    broker = factory.SubFactory(BrokerFactory)
    trader = factory.SubFactory(TraderFactory)
    valid_from = datetime.date(2020, 1, 1)
    scope = factory.LazyFunction(lambda: ["import", "export"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """``UserFactory(roles=["officer"])`` puts the user in those role groups."""
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=name) for name in extracted])
