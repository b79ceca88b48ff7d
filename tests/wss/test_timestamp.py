"""The wsu:Timestamp rules (S6, O4; H56–H62; BSP R3203, R3217, R3220–R3222, R3224, R3227)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, WsSecurityFault
from broker.edukoppeling.ns import WSU
from broker.edukoppeling.wss.timestamp import check_timestamp, read_timestamp

NOW = datetime(2027, 2, 1, 8, 0, 0, tzinfo=UTC)


def stamp(*children: tuple[str, str], text: str = "") -> etree._Element:
    """A wsu:Timestamp with the given (local name, text) children."""
    inhoud = "".join(f"<wsu:{naam}>{waarde}</wsu:{naam}>" for naam, waarde in children)
    return etree.fromstring(f'<wsu:Timestamp xmlns:wsu="{WSU}">{text}{inhoud}</wsu:Timestamp>')


def refuse(element, klass: WsSecurityFault, field: str, now: datetime = NOW, **limits) -> None:
    with pytest.raises(EdukoppelingFault) as info:
        check_timestamp(element, now, **limits)
    assert info.value.code is FaultCode.CLIENT_EK0031
    assert info.value.wss is klass, info.value.reason
    assert field in info.value.reason, info.value.reason


def test_accepts_created_and_expires_and_returns_created():
    created = check_timestamp(
        stamp(("Created", "2027-02-01T08:00:00.123Z"), ("Expires", "2027-02-01T08:05:00.123Z")), NOW
    )
    assert created == datetime(2027, 2, 1, 8, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "microseconds"),
    [
        ("2027-02-01T07:59:59Z", 0),
        ("2027-02-01T07:59:59.5Z", 500000),
        ("2027-02-01T07:59:59.05Z", 50000),
        ("2027-02-01T07:59:59.005Z", 5000),
    ],
)
def test_fraction_digits_up_to_three(text, microseconds):
    assert check_timestamp(stamp(("Created", text)), NOW).microsecond == microseconds


def test_surrounding_whitespace_is_collapsed_as_xs_datetime_does():
    assert check_timestamp(stamp(("Created", "\n  2027-02-01T08:00:00Z  ")), NOW) == NOW


def test_now_in_another_zone_is_the_same_instant():
    now = NOW.astimezone(timezone(timedelta(hours=1)))
    assert check_timestamp(stamp(("Created", "2027-02-01T08:00:00Z")), now) == NOW


def test_naive_clock_is_a_programming_error():
    with pytest.raises(ValueError):
        check_timestamp(stamp(("Created", "2027-02-01T08:00:00Z")), datetime(2027, 2, 1, 8))


def test_h56_expires_in_the_past():
    element = stamp(("Created", "2027-02-01T07:58:00Z"), ("Expires", "2027-02-01T07:59:59.999Z"))
    refuse(element, WsSecurityFault.MESSAGE_EXPIRED, "wsu:Expires has passed")


def test_h56_expires_equal_to_now_is_still_valid():
    element = stamp(("Created", "2027-02-01T07:58:00Z"), ("Expires", "2027-02-01T08:00:00Z"))
    assert check_timestamp(element, NOW) == NOW - timedelta(minutes=2)


def test_h57_created_more_than_300_s_old_without_expires():
    refuse(
        stamp(("Created", "2027-02-01T07:54:59.999Z")),
        WsSecurityFault.MESSAGE_EXPIRED,
        "more than 300 s old",
    )
    assert check_timestamp(stamp(("Created", "2027-02-01T07:55:00Z")), NOW)  # exactly 300 s: fine


def test_h57_an_earlier_expires_wins_over_the_age_limit():
    element = stamp(("Created", "2027-02-01T07:57:00Z"), ("Expires", "2027-02-01T07:58:00Z"))
    refuse(element, WsSecurityFault.MESSAGE_EXPIRED, "wsu:Expires has passed")


def test_h58_created_120_s_in_the_future():
    refuse(
        stamp(("Created", "2027-02-01T08:02:00Z")),
        WsSecurityFault.MESSAGE_EXPIRED,
        "more than 60 s in the future",
    )
    refuse(stamp(("Created", "2027-02-01T08:01:00.001Z")), WsSecurityFault.MESSAGE_EXPIRED, "in the future")


def test_h59_created_30_s_in_the_future_is_accepted():
    element = stamp(("Created", "2027-02-01T08:00:30Z"), ("Expires", "2027-02-01T08:05:30Z"))
    assert check_timestamp(element, NOW) == NOW + timedelta(seconds=30)
    assert check_timestamp(stamp(("Created", "2027-02-01T08:01:00Z")), NOW)  # exactly +60 s


def test_limits_are_configurable():
    element = stamp(("Created", "2027-02-01T07:58:00Z"))
    refuse(element, WsSecurityFault.MESSAGE_EXPIRED, "more than 60 s old", max_age_s=60)
    refuse(
        stamp(("Created", "2027-02-01T08:00:10Z")), WsSecurityFault.MESSAGE_EXPIRED, "future", future_s=5
    )


@pytest.mark.parametrize(
    "children",
    [
        (("Created", "2027-02-01T08:00:00Z"), ("Expires", "2027-02-01T07:59:00Z")),
        (("Created", "2027-02-01T08:00:00Z"), ("Expires", "2027-02-01T08:00:00Z")),
    ],
    ids=["earlier", "equal"],
)
def test_h60_expires_not_later_than_created(children):
    refuse(stamp(*children), WsSecurityFault.INVALID_SECURITY, "wsu:Expires is not later than wsu:Created")


def test_h60_expires_placed_before_created():
    element = stamp(("Expires", "2027-02-01T08:05:00Z"), ("Created", "2027-02-01T08:00:00Z"))
    refuse(element, WsSecurityFault.INVALID_SECURITY, "wsu:Created is not the first child")


@pytest.mark.parametrize(
    ("children", "field"),
    [
        ((), "without wsu:Created"),
        ((("Expires", "2027-02-01T08:05:00Z"),), "without wsu:Created"),
        (
            (("Created", "2027-02-01T08:00:00Z"), ("Created", "2027-02-01T08:00:00Z")),
            "more than one wsu:Created",
        ),
        (
            (
                ("Created", "2027-02-01T08:00:00Z"),
                ("Expires", "2027-02-01T08:05:00Z"),
                ("Expires", "2027-02-01T08:05:00Z"),
            ),
            "more than one wsu:Expires",
        ),
        ((("Created", "2027-02-01T08:00:00Z"), ("Nonce", "x")), "child other than Created/Expires"),
    ],
    ids=["empty", "only-expires", "two-created", "two-expires", "extra-child"],
)
def test_h61_timestamp_children(children, field):
    refuse(stamp(*children), WsSecurityFault.INVALID_SECURITY, field)


def test_h61_text_directly_in_timestamp():
    refuse(
        stamp(("Created", "2027-02-01T08:00:00Z"), text="x"),
        WsSecurityFault.INVALID_SECURITY,
        "holds text",
    )


def test_h61_foreign_child_element():
    element = stamp(("Created", "2027-02-01T08:00:00Z"))
    etree.SubElement(element, "{urn:x}Extra")
    refuse(element, WsSecurityFault.INVALID_SECURITY, "child other than Created/Expires")


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("2027-02-01T09:00:00+01:00", "is not an xs:dateTime in UTC"),
        ("2027-02-01T08:00:00", "is not an xs:dateTime in UTC"),
        ("2027-02-01T08:00:00z", "is not an xs:dateTime in UTC"),
        ("2027-02-01T07:59:60Z", "has seconds >= 60"),
        ("2027-02-01T08:00:00.1234Z", "is not an xs:dateTime in UTC with Z and <= 3 fraction digits"),
        ("2027-02-30T08:00:00Z", "is not a valid date/time"),
        ("2027-02-01T24:00:00Z", "is not a valid date/time"),
        ("27-02-01T08:00:00Z", "is not an xs:dateTime"),
        ("", "is not an xs:dateTime"),
    ],
)
def test_h62_created_form(value, field):
    refuse(stamp(("Created", value)), WsSecurityFault.INVALID_SECURITY, f"wsu:Created {field}")


def test_h62_the_log_names_expires_when_expires_is_malformed():
    element = stamp(("Created", "2027-02-01T08:00:00Z"), ("Expires", "2027-02-01T09:05:00+01:00"))
    refuse(element, WsSecurityFault.INVALID_SECURITY, "wsu:Expires is not an xs:dateTime in UTC")


def test_h62_child_element_inside_created():
    element = etree.fromstring(
        f'<wsu:Timestamp xmlns:wsu="{WSU}"><wsu:Created>2027-02-01T08:00:00Z<x/></wsu:Created></wsu:Timestamp>'
    )
    refuse(element, WsSecurityFault.INVALID_SECURITY, "wsu:Created has child elements")


def test_read_timestamp_checks_form_without_the_clock():
    element = stamp(("Created", "2020-01-01T00:00:00Z"), ("Expires", "2020-01-01T00:05:00Z"))
    assert read_timestamp(element) == (
        datetime(2020, 1, 1, tzinfo=UTC),
        datetime(2020, 1, 1, 0, 5, tzinfo=UTC),
    )
