"""Contact details of institutions (broker.service.contacten, issue 15 item 5) on SQLite and PostgreSQL:
DUO's values, the registry's winning field by field, looked up in bulk and once per session."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import event

from broker.domain.visibility import ContactReference, ContactRol, LeerlingBeeld
from broker.registry.repository import PartijRegistry
from broker.service.contacten import Contact, ContactBook

MBO_X = "0000000700099XB00000"


def _beeld(*references: ContactReference) -> LeerlingBeeld:
    return LeerlingBeeld(None, None, None, (), None, contacten=references)


def _instelling(brin: str, show: bool = True) -> ContactReference:
    return ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, brin, show_brin=show)


def _set_contact(session, oin: str, **fields) -> None:
    partij_registry = PartijRegistry(session)
    [partij] = [p for p in partij_registry.list_() if p.oin == oin]
    partij_registry.add(replace(partij, **fields), replace=True)
    session.commit()


def test_duo_values_without_registration(demo_session):
    [contact] = ContactBook(demo_session, 2027).contacten(_beeld(_instelling("99XB")))

    assert contact == Contact(
        rol=ContactRol.ONTVANGENDE_MBO_INSTELLING,
        brin="99XB",
        naam="ROC Amstelstroom (FICTIEF)",
        telefoon="0200000020",
        internetadres="www.amstelstroom.example",
        email=None,
    )


def test_registration_wins_field_by_field_and_the_name_stays_duos(demo_session):
    _set_contact(
        demo_session,
        MBO_X,
        naam="Stichting ROC (FICTIEF)",  # a board's name is not the institution's: DUO's stays
        contact_telefoon="020-7654321",
        contact_email="vva@roc.example",
    )

    [contact] = ContactBook(demo_session, 2027).contacten(_beeld(_instelling("99XB")))

    assert (contact.naam, contact.telefoon, contact.internetadres, contact.email) == (
        "ROC Amstelstroom (FICTIEF)",
        "020-7654321",
        "www.amstelstroom.example",
        "vva@roc.example",
    )


def test_brin_not_shown_and_unknown_instelling_left_out(demo_session):
    beeld = _beeld(
        ContactReference(ContactRol.LATENDE_VO_SCHOOL, "99XA", show_brin=False), _instelling("98ZZ")
    )

    [school] = ContactBook(demo_session, 2027).contacten(beeld)

    assert (school.rol, school.brin, school.naam) == (
        ContactRol.LATENDE_VO_SCHOOL,
        None,
        "Scholengemeenschap Één (FICTIEF)",
    )


def test_one_lookup_for_many_leerlingen_and_then_from_the_cache(demo_session):
    beelden = [_beeld(_instelling("99XB"), _instelling("99XE"), _instelling("99XF")) for _ in range(200)]
    queries: list[str] = []
    connection = demo_session.connection()

    @event.listens_for(connection, "before_cursor_execute")
    def record_query(conn, cursor, statement, *args):
        queries.append(statement)

    book = ContactBook(demo_session, 2027)
    book.load(beelden)
    count_after_loading = len(queries)
    outcome = [book.contacten(b) for b in beelden]
    ContactBook(demo_session, 2027).contacten(beelden[0])  # a second lookup in the same session

    assert len(queries) == count_after_loading <= 3  # refdata year, DUO's details, the registry's overrides
    assert {c.brin for contacten in outcome for c in contacten} == {"99XB", "99XE", "99XF"}
