import pandas as pd
import pytest

from leadscore.config import DateFormat
from leadscore.data.timestamps import has_time_of_day, parse_timestamps
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
