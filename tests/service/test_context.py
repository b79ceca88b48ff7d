"""The unit of work (broker.service.context.Processing): the current cycle's row exists once a
request used it, and this process stops looking for it only once it is committed — on SQLite and
PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event, select

from broker.db import models
from broker.db.engine import make_session_factory
from broker.domain.cycle import Calendar
from broker.service.context import Processing
from tests.service.conftest import NOW


def cycli(engine) -> list[int]:
    with make_session_factory(engine)() as session:
        return list(session.scalars(select(models.Cyclus.jaar)))


def test_a_cycle_row_of_a_rolled_back_request_is_looked_for_again(db_engine, keyring) -> None:
    sessions = make_session_factory(db_engine)
    with sessions() as session:
        assert Processing(session, keyring, Calendar(), now=NOW).cyclus.jaar == 2027
        assert Processing(session, keyring, Calendar(), now=NOW).cyclus.jaar == 2027  # seen, not noted
        session.rollback()
    statements: list[str] = []
    event.listen(db_engine, "before_cursor_execute", lambda c, cu, s, *a: statements.append(s))

    with sessions.begin() as session:
        assert Processing(session, keyring, Calendar(), now=NOW).cyclus.jaar == 2027

    # (SQLite may already have kept the row: its SAVEPOINT outside a transaction commits on release.)
    assert [s for s in statements if "cyclus" in s][:1] != []
    assert cycli(db_engine) == [2027]


def test_a_committed_cycle_row_is_not_looked_up_again(db_engine, keyring) -> None:
    sessions = make_session_factory(db_engine)
    with sessions.begin() as session:
        assert Processing(session, keyring, Calendar(), now=NOW).cyclus.jaar == 2027
    with sessions() as session:  # another request sees it committed, and notes it
        assert Processing(session, keyring, Calendar(), now=NOW).cyclus.jaar == 2027
    statements: list[str] = []
    event.listen(db_engine, "before_cursor_execute", lambda c, cu, s, *a: statements.append(s))

    with sessions() as session:
        assert Processing(session, keyring, Calendar(), now=NOW).cyclus.deadline.year == 2027

    assert [s for s in statements if "cyclus" in s] == []
