"""The wsu:Timestamp check (S6; H56–H62; WUS WB002).

Form first (BSP R3203, R3217, R3220, R3221, R3222, R3224, R3227), then freshness against the
broker's clock with the WSS4J values the project chose (O4): Created at most ``future_s`` ahead,
at most ``max_age_s`` old, and Expires, when present, not passed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from lxml import etree

from broker.edukoppeling.faults import EdukoppelingFault, FaultCode, WsSecurityFault
from broker.edukoppeling.ns import WSU, q

# xs:dateTime restricted to what BSP R3217/R3220/R3224 allow: UTC with "Z", at most 3 fraction digits.
_UTC_DATETIME = re.compile(
    r"(?P<jaar>\d{4})-(?P<maand>\d{2})-(?P<dag>\d{2})"
    r"T(?P<uur>\d{2}):(?P<minuut>\d{2}):(?P<seconde>\d{2})(?:\.(?P<fractie>\d{1,3}))?Z",
    re.ASCII,
)


def _make_fault(klass: WsSecurityFault, reason: str) -> EdukoppelingFault:
    return EdukoppelingFault(FaultCode.CLIENT_EK0031, reason, wss=klass)


def _children(timestamp_el: etree._Element) -> tuple[etree._Element, etree._Element | None]:
    """Created and the optional Expires; anything else is an InvalidSecurity (H60, H61)."""
    if (timestamp_el.text or "").strip() or any((kind.tail or "").strip() for kind in timestamp_el):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsu:Timestamp holds text")
    elements = [kind for kind in timestamp_el if isinstance(kind.tag, str)]
    names = [kind.tag for kind in elements]
    if not names or names[0] != q(WSU, "Created"):
        if q(WSU, "Created") in names:
            raise _make_fault(
                WsSecurityFault.INVALID_SECURITY, "wsu:Created is not the first child of wsu:Timestamp"
            )
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsu:Timestamp without wsu:Created")
    if names.count(q(WSU, "Created")) > 1:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsu:Timestamp with more than one wsu:Created")
    if names[1:] not in ([], [q(WSU, "Expires")]):
        if names.count(q(WSU, "Expires")) > 1:
            raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsu:Timestamp with more than one wsu:Expires")
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsu:Timestamp has a child other than Created/Expires")
    return elements[0], (elements[1] if len(elements) == 2 else None)


def read_utc(element: etree._Element, field: str) -> datetime:
    """The xs:dateTime of ``element`` as an aware UTC datetime.

    Accepted: ``YYYY-MM-DDThh:mm:ss[.f{1,3}]Z`` (surrounding whitespace is collapsed as xs:dateTime
    does). Raises EK0031 ``wsse:InvalidSecurity`` naming ``field`` for an offset or missing zone,
    more than 3 fraction digits, seconds >= 60, an impossible date, or child elements (BSP R3217,
    R3220, R3224, R3227; H62).
    """
    if len(element) and any(isinstance(kind.tag, str) for kind in element):
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{field} has child elements")
    text = "".join(element.itertext()).strip()
    match = _UTC_DATETIME.fullmatch(text)
    if match is None:
        raise _make_fault(
            WsSecurityFault.INVALID_SECURITY,
            f"{field} is not an xs:dateTime in UTC with Z and <= 3 fraction digits",
        )
    parts = {name: int(value) for name, value in match.groupdict().items() if name != "fractie"}
    if parts["seconde"] >= 60:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{field} has seconds >= 60")
    fraction = match.group("fractie") or ""
    try:
        return datetime(
            parts["jaar"],
            parts["maand"],
            parts["dag"],
            parts["uur"],
            parts["minuut"],
            parts["seconde"],
            int(fraction.ljust(3, "0")) * 1000 if fraction else 0,
            tzinfo=UTC,
        )
    except ValueError:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, f"{field} is not a valid date/time") from None


def read_timestamp(timestamp_el: etree._Element) -> tuple[datetime, datetime | None]:
    """The form check of a wsu:Timestamp without the clock: returns (Created, Expires or None).

    Raises EK0031 ``wsse:InvalidSecurity`` for no Created, Created not first, two Created, two
    Expires, another child, a malformed value, or Expires not later than Created (H60, H61, H62;
    BSP R3203, R3221, R3222, R3227).
    """
    created_el, expires_el = _children(timestamp_el)
    created = read_utc(created_el, "wsu:Created")
    expires = read_utc(expires_el, "wsu:Expires") if expires_el is not None else None
    if expires is not None and expires <= created:
        raise _make_fault(WsSecurityFault.INVALID_SECURITY, "wsu:Expires is not later than wsu:Created")
    return created, expires


def check_timestamp(
    timestamp_el: etree._Element, now: datetime, max_age_s: int = 300, future_s: int = 60
) -> datetime:
    """Check a wsu:Timestamp and return its Created (aware, UTC).

    In: the wsu:Timestamp element (the one in the verified Security header), the broker's clock
    ``now`` (timezone-aware; ValueError when naive), the maximum age and future skew in seconds.
    Raises ``EdukoppelingFault(FaultCode.CLIENT_EK0031, …)``:

    * ``wsse:InvalidSecurity`` — the form errors of ``read_timestamp`` (H60, H61, H62);
    * ``wsse:MessageExpired`` — Created more than ``future_s`` ahead of ``now`` (H58), more than
      ``max_age_s`` behind it (H57), or ``now`` after Expires (H56). S6, O4;
      WUS WB002.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("nu must be timezone-aware")
    now = now.astimezone(UTC)
    created, expires = read_timestamp(timestamp_el)
    if created > now + timedelta(seconds=future_s):
        raise _make_fault(WsSecurityFault.MESSAGE_EXPIRED, f"wsu:Created more than {future_s} s in the future")
    if created < now - timedelta(seconds=max_age_s):
        raise _make_fault(WsSecurityFault.MESSAGE_EXPIRED, f"wsu:Created more than {max_age_s} s old")
    if expires is not None and now > expires:
        raise _make_fault(WsSecurityFault.MESSAGE_EXPIRED, "wsu:Expires has passed")
    return created
