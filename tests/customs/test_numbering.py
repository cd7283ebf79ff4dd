"""Gap-free numbering per office, year and series, under real concurrency on PostgreSQL."""

import threading

import pytest
from django.db import connection, transaction

from customs.models import DocumentSequence
from customs.services.numbering import number_format, number_next


def _take(series="C", office_code="TMA01", year=2026):
    with transaction.atomic():
        return number_next(office_code=office_code, year=year, series=series)


@pytest.mark.django_db
def test_numbers_count_up_per_office_year_and_series():
    taken = [_take(), _take(), _take(series="A"), _take(office_code="TMT01"), _take(year=2027), _take()]

    assert taken == [1, 2, 1, 1, 1, 3]
    assert number_format(office_code="TMA01", year=2026, series="C", number=10452) == "TMA01 2026 C 10452"


@pytest.mark.django_db
def test_a_rolled_back_caller_gives_its_number_back():
    _take()
    with pytest.raises(RuntimeError), transaction.atomic():
        assert number_next(office_code="TMA01", year=2026, series="C") == 2
        raise RuntimeError("registration failed validation")

    assert _take() == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_threads_get_twenty_distinct_numbers_without_gaps():
    threads_count, per_thread = 20, 5
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads_count)

    def worker(index):
        try:
            barrier.wait(timeout=30)
            for attempt in range(per_thread):
                with transaction.atomic():
                    number = number_next(office_code="TMA01", year=2026, series="C")
                    if (index + attempt) % 7 == 0:
                        # some callers fail after taking a number: their numbers must be reused
                        transaction.set_rollback(True)
                        continue
                with lock:
                    results.append(number)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(results) == list(range(1, len(results) + 1))
    assert len(results) == threads_count * per_thread - sum(
        1 for index in range(threads_count) for attempt in range(per_thread) if (index + attempt) % 7 == 0
    )
    assert DocumentSequence.objects.get(office_code="TMA01", year=2026, series="C").last_number == len(
        results
    )
