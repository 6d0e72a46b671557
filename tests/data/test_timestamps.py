from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.config import DateFormat
from leadscore.data.timestamps import (
    NANOSECOND_RANGE,
    has_time_of_day,
    parse_timestamps,
    read_timestamps,
)
from leadscore.errors import SchemaError


def utc(*values: str | None) -> list:
    return [pd.Timestamp(v, tz="UTC") if v else pd.NaT for v in values]


def test_iso_8601_in_its_variants_reads_without_a_declaration():
    values = pd.Series(["2026-01-01T10:00:00Z", "2026-01-02 11:00", "2026-01-03T12:00+01:00", ""])
    assert parse_timestamps(values).tolist() == utc(
        "2026-01-01 10:00", "2026-01-02 11:00", "2026-01-03 11:00", None
    )


def test_undeclared_day_month_dates_stop_with_the_column_examples_and_what_to_declare():
    values = pd.Series(["01-02-2018 10:30", "13-02-2018 09:00", "03-04-2018 00:00"])
    with pytest.raises(SchemaError) as caught:
        parse_timestamps(values, table="leads", column="Created")
    message = str(caught.value)
    assert "leads column 'Created'" in message and "'01-02-2018 10:30'" in message
    assert "schema.dates.leads.format" in message and "'%d-%m-%Y %H:%M'" in message


def test_all_ambiguous_dates_stop_too():
    with pytest.raises(SchemaError, match="day-first and month-first"):
        parse_timestamps(pd.Series(["01/02/2018", "03/04/2018"]), column="Day")


@pytest.mark.parametrize(
    "spec", [DateFormat(format="%d-%m-%Y %H:%M"), DateFormat(dayfirst=True)], ids=["format", "flag"]
)
def test_declared_day_first_reads_every_date_right(spec):
    values = pd.Series(["01-02-2018 10:30", "13-02-2018 09:00", "03-04-2018 00:00", None])
    assert parse_timestamps(values, spec).tolist() == utc(
        "2018-02-01 10:30", "2018-02-13 09:00", "2018-04-03 00:00", None
    )


def test_a_value_against_the_declared_order_is_unreadable_not_swapped():
    values = pd.Series(["01/02/2018", "02/13/2018"])
    assert parse_timestamps(values, DateFormat(dayfirst=True)).tolist() == utc("2018-02-01", None)


def test_month_names_and_year_first_dates_have_one_reading():
    assert parse_timestamps(pd.Series(["01 Feb 2018", "Mar 3, 2018"])).tolist() == utc(
        "2018-02-01", "2018-03-03"
    )
    assert parse_timestamps(pd.Series(["2018/02/01", "2018/02/13"])).tolist() == utc(
        "2018-02-01", "2018-02-13"
    )


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([1518000000, 1518003600], None),
        ([1518000000000, 1518003600000], None),
        ([1518000000000000, 1518003600000000], None),
        (["1518000000", "1518003600"], None),
        ([1518000000, 1518003600], "s"),
    ],
    ids=["seconds", "milliseconds", "microseconds", "text", "declared"],
)
def test_epochs_are_read_by_their_magnitude_or_declared_unit(values, unit):
    read = parse_timestamps(pd.Series(values), DateFormat(unit=unit))
    assert read.tolist() == utc("2018-02-07 10:40", "2018-02-07 11:40")


def test_eight_digit_numbers_are_not_guessed():
    with pytest.raises(SchemaError, match="YYYYMMDD or epoch"):
        parse_timestamps(pd.Series(["20180201"]))
    read = parse_timestamps(pd.Series(["20180201"]), DateFormat(format="%Y%m%d"))
    assert read.tolist() == utc("2018-02-01")


def test_datetimes_pass_through_as_utc_and_date_only_is_seen():
    naive = pd.Series(pd.to_datetime(["2018-01-02", "2018-01-03"]))
    read = parse_timestamps(naive)
    assert read.tolist() == utc("2018-01-02", "2018-01-03")
    assert not has_time_of_day(read)
    assert has_time_of_day(parse_timestamps(pd.Series(["2018-01-02 10:00"])))


def test_chunks_read_alike_and_an_empty_column_is_all_missing():
    values = pd.Series(["13-02-2018", "01-02-2018", "05-06-2018", "30-01-2018"])
    spec = DateFormat(dayfirst=True)
    whole = parse_timestamps(values, spec)
    parts = pd.concat([parse_timestamps(values[:2], spec), parse_timestamps(values[2:], spec)])
    pd.testing.assert_series_equal(whole, parts)
    assert parse_timestamps(pd.Series([None, ""], dtype="object")).isna().all()


# Every way a date is written that the reader supports, with the declaration it needs: each
# renders a datetime (and nanoseconds past its microsecond) as text or a number.
def _iso_date(at: datetime, _: int) -> str:
    return f"{at.year:04d}-{at:%m-%d}"


def _iso_fraction(at: datetime, nanos: int) -> str:
    return f"{at.year:04d}-{at:%m-%dT%H:%M:%S}.{at.microsecond:06d}{nanos:03d}Z"


def _day_first(at: datetime, _: int) -> str:
    return f"{at:%d/%m/}{at.year:04d} {at:%H:%M:%S}"


def _month_first(at: datetime, _: int) -> str:
    return f"{at:%m-%d-}{at.year:04d} {at:%H:%M}"


def _declared(at: datetime, _: int) -> str:
    return f"{at:%d.%m.}{at.year:04d} {at:%H:%M:%S.%f}"


def _epoch_seconds(at: datetime, _: int) -> int:
    return (at.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)


WRITTEN = {
    "iso-date": (_iso_date, DateFormat(), "D"),
    "iso-fraction": (_iso_fraction, DateFormat(), "ns"),
    "day-first": (_day_first, DateFormat(dayfirst=True), "s"),
    "month-first": (_month_first, DateFormat(dayfirst=False), "min"),
    "declared": (_declared, DateFormat(format="%d.%m.%Y %H:%M:%S.%f"), "us"),
    "epoch-seconds": (_epoch_seconds, DateFormat(unit="s"), "s"),
}
CALENDAR = st.tuples(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(0, 999),
)


@pytest.mark.parametrize("written", WRITTEN, ids=list(WRITTEN))
@settings(max_examples=60, deadline=None)
@given(moments=st.lists(CALENDAR, min_size=1, max_size=6))
def test_every_date_of_the_calendar_is_read_right_or_marked_out_of_range(written, moments):
    render, spec, precision = WRITTEN[written]
    values = pd.Series([render(at, nanos) for at, nanos in moments])
    read = read_timestamps(values, spec)
    first, last = NANOSECOND_RANGE
    for (at, nanos), got, outside in zip(moments, read.at, read.out_of_range, strict=True):
        exact = pd.Timestamp(at, tz="UTC").floor(precision if precision != "ns" else "us")
        if first <= exact <= last:
            extra = nanos if precision == "ns" else 0
            assert (got, outside) == (exact.as_unit("ns") + pd.Timedelta(extra, "ns"), False)
        else:
            assert pd.isna(got) and outside  # quarantined as out of range, never wrapped


def test_a_never_sentinel_beside_a_nanosecond_date_is_out_of_range_not_another_century():
    values = pd.Series(["9999-12-31", "2024-01-01T00:00:00.123456789", "31/12/9999"])
    read = read_timestamps(values, DateFormat(dayfirst=True))
    nanosecond = pd.Timestamp("2024-01-01 00:00:00.123456789", tz="UTC")
    assert read.at.tolist() == [pd.NaT, nanosecond, pd.NaT]
    assert read.out_of_range.tolist() == [True, False, True]
