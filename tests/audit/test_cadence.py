"""Run times, RPO and restore points of known schedules, as Velero's cron (robfig/cron v3) fires them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.audit.cadence import CadenceError, parse

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
BERLIN = ZoneInfo("Europe/Berlin")
H = 3600


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("schedule, rpo_hours", [
    ("0 * * * *", 1),
    ("15 * * * *", 1),
    ("0 0 * * *", 24),
    ("@daily", 24),
    ("0 0 * * 0", 168),
    ("0 */6 * * *", 6),
    ("@every 6h", 6),
    ("0 9 * * 1-5", 72),  # Friday 09:00 to Monday 09:00
    ("0 0 31 * *", 61 * 24),  # 31 Aug -> 31 Oct (September has no 31st)
    ("CRON_TZ=Asia/Kolkata 0 2 * * *", 24),  # no DST
])
def test_rpo_of_regular_schedules(schedule, rpo_hours):
    gap = parse(schedule).largest_gap(NOW)
    assert gap.seconds == rpo_hours * H


def test_daily_0230_berlin_skips_the_spring_forward_day():
    # 2027-03-28 has no 02:30 in Berlin (02:00 CET -> 03:00 CEST). Velero's cron skips that day's run, so
    # the gap runs from 02:30 CET on the 27th to 02:30 CEST on the 29th: 47 hours.
    gap = parse("CRON_TZ=Europe/Berlin 30 2 * * *").largest_gap(NOW)
    assert gap.seconds == 47 * H
    assert gap.after == utc("2027-03-27T01:30:00Z") and gap.before == utc("2027-03-29T00:30:00Z")
    assert gap.after.astimezone(BERLIN).strftime("%d %H:%M %Z") == "27 02:30 CET"
    assert gap.before.astimezone(BERLIN).strftime("%d %H:%M %Z") == "29 02:30 CEST"


def test_croniter_alone_would_not_skip_it():
    # Why run times are not taken from croniter's iterator: it moves the missing 02:30 to 03:00 CEST.
    it = croniter("30 2 * * *", datetime(2027, 3, 27, 3, 0, tzinfo=BERLIN))
    assert it.get_next(datetime).strftime("%d %H:%M %Z") == "28 03:00 CEST"
    runs = parse("CRON_TZ=Europe/Berlin 30 2 * * *").next_runs(utc("2027-03-27T02:00:00Z"), 2)
    assert [r.astimezone(BERLIN).strftime("%d %H:%M %Z") for r in runs] == ["29 02:30 CEST", "30 02:30 CEST"]


def test_daily_0230_berlin_runs_twice_when_clocks_go_back():
    # 2027-10-31: 02:00-03:00 happens twice (CEST, then CET); robfig/cron matches both.
    runs = parse("CRON_TZ=Europe/Berlin 30 2 * * *").next_runs(utc("2027-10-30T12:00:00Z"), 3)
    assert [r.astimezone(BERLIN).strftime("%d %H:%M %Z") for r in runs] == [
        "31 02:30 CEST", "31 02:30 CET", "01 02:30 CET"]
    assert runs[1] - runs[0] == timedelta(hours=1)


def test_midnight_berlin_has_a_25_hour_gap_in_october():
    gap = parse("CRON_TZ=Europe/Berlin 0 0 * * *").largest_gap(NOW)
    assert gap.seconds == 25 * H
    assert gap.after.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M %Z") == "2027-10-31 00:00 CEST"


@pytest.mark.parametrize("start, schedule, expected", [
    # robfig/cron's own DST cases (spec_test.go, TestNext), in five fields.
    ("2012-03-11T00:00:00-05:00", "CRON_TZ=America/New_York 30 2 11 3 *", "2013-03-11T02:30:00-04:00"),
    ("2012-03-11T00:00:00-05:00", "CRON_TZ=America/New_York 0 2 * * *", "2012-03-12T02:00:00-04:00"),
    ("2012-11-04T00:00:00-04:00", "CRON_TZ=America/New_York 30 2 4 11 *", "2012-11-04T02:30:00-05:00"),
    ("2012-11-04T01:45:00-04:00", "CRON_TZ=America/New_York 30 1 4 11 *", "2012-11-04T01:30:00-05:00"),
])
def test_agrees_with_robfig_cron_at_dst_changes(start, schedule, expected):
    assert parse(schedule).next_runs(datetime.fromisoformat(start), 1) == [datetime.fromisoformat(expected)]


def test_star_step_in_day_of_month_means_and_as_in_robfig():
    # robfig treats `*/2` as a star field: day-of-month AND day-of-week (croniter would OR them).
    runs = parse("0 0 */2 * 1").next_runs(NOW, 3)
    assert all(r.day % 2 == 1 and r.weekday() == 0 for r in runs)


@pytest.mark.parametrize("schedule", ["0 0 * * 7", "0 0 L * *", "1 2 3", "CRON_TZ=Mars/Olympus 0 0 * * *"])
def test_what_velero_rejects_is_an_error(schedule):
    with pytest.raises(CadenceError):
        parse(schedule)


def test_a_line_that_never_fires_has_no_rpo():
    assert parse("0 0 30 2 *").largest_gap(NOW) is None
    assert parse("0 0 30 2 *").next_runs(NOW) == []


def test_feb_29_gap_is_four_years():
    gap = parse("0 0 29 2 *").largest_gap(NOW)
    assert (gap.after.year, gap.before.year, gap.seconds) == (2028, 2032, 1461 * 24 * H)


@pytest.mark.parametrize("schedule, ttl_hours, low, high, interval_hours", [
    ("0 0 * * *", 720, 30, 30, 24),  # 30d retention of a daily backup: 30
    ("0 * * * *", 168, 168, 168, 1),
    ("0 0 * * 0", 720, 4, 5, 168),  # 30 days hold 4 weekly backups, 5 right after a run
    ("@every 6h", 24, 4, 4, 6),
    ("0 9 * * 1-5", 720, 20, 22, 24),  # weekdays only: not 30
    ("CRON_TZ=Europe/Berlin 30 2 * * *", 720, 29, 31, 24),  # one fewer after the skipped day, one more after the doubled one
])
def test_restore_points(schedule, ttl_hours, low, high, interval_hours):
    cad = parse(schedule)
    rp = cad.restore_points(NOW, ttl_hours * H, cad.largest_gap(NOW))
    assert (rp.low, rp.high, rp.interval) == (low, high, interval_hours * H)


CRON_FIELD = {
    "minute": st.sampled_from(["0", "15", "*/20", "5,35", "0-10/5"]),
    "hour": st.sampled_from(["*", "0", "3", "*/6", "8-17", "1,13"]),
    "dom": st.sampled_from(["*", "1", "15", "1-7", "10,20"]),
    "month": st.sampled_from(["*", "1", "2", "*/3", "6-8"]),
    "dow": st.sampled_from(["*", "0", "1-5", "6", "2,4"]),
}


@settings(max_examples=60, deadline=None)
@given(st.fixed_dictionaries(CRON_FIELD), st.integers(0, 3 * 365 * 24))
def test_same_runs_as_croniter_in_utc(fields, offset_hours):
    # Without DST and `*/n` day fields, robfig/cron and croniter agree: ours must give croniter's runs.
    line = " ".join(fields[k] for k in ("minute", "hour", "dom", "month", "dow"))
    start = NOW + timedelta(hours=offset_hours)
    it = croniter(line, start)
    expected = [it.get_next(datetime) for _ in range(5)]
    assert parse(line).next_runs(start, 5) == expected
