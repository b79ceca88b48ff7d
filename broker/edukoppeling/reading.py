"""Makes the verified Body readable the way the XSD means it, in place, without a second parse.

Two things a naive reader gets wrong (H114/H115 and the boolean finding): a comment
splits a text node, and spyne then reads only the part before it; and surrounding whitespace, which
XSD collapses for booleans, dates and numbers, makes spyne read ``"\\n true\\n"`` as false. Comments
are outside exclusive c14n without comments and our contract has no value where surrounding
whitespace means anything, so this changes nothing that is signed or meant. It must run after the
signature is verified and before the XSD check, so the schema and spyne see the same values.
"""

from __future__ import annotations

from lxml import etree


def make_readable(element: etree._Element) -> None:
    """Join the text around every comment in ``element``'s subtree, drop the comments, and strip the
    surrounding whitespace of every element that holds only text."""
    for comment in list(element.iter(etree.Comment)):
        parent, tail = comment.getparent(), comment.tail or ""
        previous = comment.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
        parent.remove(comment)
    for sheet in element.iter(etree.Element):
        if len(sheet) == 0 and sheet.text is not None:
            sheet.text = sheet.text.strip()
