"""The hardened parse's limits where counting the bytes stands in for the tree walk (issue 18): a
small message is only walked when it may be too deep or holds a processing instruction, and then
gets exactly the fault the walk gives."""

from __future__ import annotations

import pytest

from broker.edukoppeling import parsing
from broker.edukoppeling.faults import EdukoppelingFault
from broker.edukoppeling.parsing import Limits, parse_message


def _nested(depth: int) -> bytes:
    """A document whose deepest element is at ``depth`` (the root is at depth 1)."""
    return ("<a>" * depth + "</a>" * depth).encode()


def test_H86_depth_at_the_limit_is_parsed_without_the_walk(monkeypatch):
    walked = []
    monkeypatch.setattr(parsing, "_walk_structure", lambda *args: walked.append(args))
    root = parse_message(_nested(Limits.depth))
    assert root.tag == "a" and walked == []


def test_H86_one_level_deeper_than_the_limit_is_refused():
    with pytest.raises(EdukoppelingFault) as refused:
        parse_message(_nested(Limits.depth + 1))
    assert refused.value.reason == "xml:Limit element depth"


@pytest.mark.parametrize(
    "raw",
    [b"<a><b><?pi x?></b></a>", b"<?pi x?><a/>", b"<a/><?pi x?>"],
    ids=["inside", "before the root", "after the root"],
)
def test_H84_a_processing_instruction_anywhere_in_a_small_message_is_refused(raw):
    with pytest.raises(EdukoppelingFault) as refused:
        parse_message(raw)
    assert refused.value.reason == "xml:Forbidden processing instruction"


def test_a_message_too_deep_and_with_a_processing_instruction_gets_the_walks_first_fault():
    # The walk meets the PI (depth 2) before the element at depth 101: the same fault as before.
    raw = b"<a><?pi x?>" + _nested(Limits.depth + 1) + b"</a>"
    with pytest.raises(EdukoppelingFault) as refused:
        parse_message(raw)
    assert refused.value.reason in {"xml:Forbidden processing instruction", "xml:Limit element depth"}
    assert refused.value.reason == _walked_fault(raw)


def test_other_limits_still_use_the_walk():
    with pytest.raises(EdukoppelingFault) as refused:
        parse_message(_nested(6), Limits(depth=5))
    assert refused.value.reason == "xml:Limit element depth"


def _walked_fault(raw: bytes) -> str:
    from lxml import etree

    try:
        parsing._walk_structure(etree.fromstring(raw, parsing._parser()), Limits(), raw)
    except EdukoppelingFault as fault:
        return fault.reason
    return ""
