"""The database schema as SQLAlchemy 2 typed models.

In the exchange tables pupil numbers (BSN / onderwijsnummer) are never stored in clear text:
``sleutel_hash`` is a keyed hash (HMAC-SHA256) used for matching and ``nummer_versleuteld`` an AES-GCM
ciphertext used only to give the number back to an entitled party (AVG art. 32; docs/architecture.md,
"Parties and what they may see"). The raw messages in ``bericht.inhoud`` are encrypted the same way
(``broker.db.message_log``).
Schema changes go through Alembic migrations in ``broker/db/migrations``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _time() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True))


# --- parties -------------------------------------------------------------------------------


class Partij(Base):
    """A connected party: VO school (board), MBO institution, gemeente, regional system, supplier."""

    __tablename__ = "partij"

    oin: Mapped[str] = mapped_column(String(20), primary_key=True)
    soort: Mapped[str] = mapped_column(String(24))
    naam: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str | None] = mapped_column(String(500))
    actief: Mapped[bool] = mapped_column(Boolean, default=True)
    # The institution's contact details for this exchange (migration 0015): phone and internet address
    # override DUO's, the e-mail exists only here. Never a person's.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_telefoon: Mapped[str | None] = mapped_column(String(50))
    contact_internetadres: Mapped[str | None] = mapped_column(String(200))
    # Whether the party's software accepts the optional ``contactgegevens`` element (migration 0015): a
    # client validating against the XSD as it was before would refuse answers and pushes carrying it.
    contactgegevens_ontvangen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Whether it accepts the optional intake, onderwijsovereenkomst and examenresultaat elements
    # (migration 0016), for the same reason.
    procesfeiten_ontvangen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    scopes: Mapped[list[PartijScope]] = relationship(
        back_populates="partij", cascade="all, delete-orphan", lazy="selectin"
    )
    mandaten: Mapped[list[Mandaat]] = relationship(
        back_populates="partij", cascade="all, delete-orphan", lazy="selectin"
    )


class PartijScope(Base):
    """One BRIN, gemeentecode or RMC region a party acts for."""

    __tablename__ = "partij_scope"
    __table_args__ = (UniqueConstraint("partij_oin", "soort", "waarde"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    partij_oin: Mapped[str] = mapped_column(ForeignKey("partij.oin", ondelete="CASCADE"))
    soort: Mapped[str] = mapped_column(String(10))  # brin | gemeente | rmc
    waarde: Mapped[str] = mapped_column(String(10))

    partij: Mapped[Partij] = relationship(back_populates="scopes")


class Mandaat(Base):
    """A certificate OIN allowed to speak for a party (e.g. a LAS supplier for a school; M2)."""

    __tablename__ = "mandaat"
    __table_args__ = (UniqueConstraint("partij_oin", "certificaat_oin"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    partij_oin: Mapped[str] = mapped_column(ForeignKey("partij.oin", ondelete="CASCADE"))
    certificaat_oin: Mapped[str] = mapped_column(String(20))
    geldig_van: Mapped[date | None] = mapped_column(Date)
    geldig_tot: Mapped[date | None] = mapped_column(Date)
    # Space-separated "dienst" or "dienst/operatie" entries; NULL = every action (M2).
    acties: Mapped[str | None] = mapped_column(Text)

    partij: Mapped[Partij] = relationship(back_populates="mandaten")


class RegistryVersion(Base):
    """One row: a random value that every change to partij, partij_scope or mandaat renews (a trigger,
    migration 0011; named ``register_versie`` before migration 0018), so a process's copy of the
    registry knows when it is stale."""

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32))


# --- reference data (DUO open data) ---------------------------------------------------------


class RmcRegio(Base):
    """An RMC region as DUO's files of one cycle name it (regions change between years)."""

    __tablename__ = "rmc_regio"

    cyclus_jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(3), primary_key=True)  # "36", no leading zero
    naam: Mapped[str] = mapped_column(String(200))
    geldig_vanaf_cyclus: Mapped[int] = mapped_column(Integer)


class Gemeente(Base):
    """A gemeente of one cycle with its RMC region in that cycle."""

    __tablename__ = "gemeente"

    cyclus_jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(4), primary_key=True)  # CBS code, 4 digits
    naam: Mapped[str] = mapped_column(String(200))
    rmc_regio: Mapped[str | None] = mapped_column(String(3))
    geldig_vanaf_cyclus: Mapped[int] = mapped_column(Integer)


class Instelling(Base):
    """A VO, (V)SO or MBO institution by BRIN4 (instellingscode) in one cycle's reference data.

    ``sector`` vo | mbo ((V)SO schools are on the VO side); ``onderwijssoort`` vo | vso | mbo.
    ``beeindigd``: known in an earlier cycle, missing from this cycle's DUO files (never deleted).
    """

    __tablename__ = "instelling"

    cyclus_jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    brin: Mapped[str] = mapped_column(String(4), primary_key=True)
    sector: Mapped[str] = mapped_column(String(3))  # vo | mbo
    onderwijssoort: Mapped[str] = mapped_column(String(3))  # vo | vso | mbo
    naam: Mapped[str] = mapped_column(String(200))
    gemeentecode: Mapped[str | None] = mapped_column(String(4))
    rmc_regio: Mapped[str | None] = mapped_column(String(3))
    telefoon: Mapped[str | None] = mapped_column(String(50))
    internetadres: Mapped[str | None] = mapped_column(String(200))
    beeindigd: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    geldig_vanaf_cyclus: Mapped[int] = mapped_column(Integer)


class Vestiging(Base):
    """A location (BRIN6 / vestigingscode) of an institution in one cycle's reference data."""

    __tablename__ = "vestiging"

    cyclus_jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    brin: Mapped[str] = mapped_column(String(4), index=True)
    naam: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str | None] = mapped_column(String(6))
    plaats: Mapped[str | None] = mapped_column(String(100))
    gemeentecode: Mapped[str | None] = mapped_column(String(4))
    rmc_regio: Mapped[str | None] = mapped_column(String(3))
    onderwijsstructuur: Mapped[str | None] = mapped_column(String(50))
    telefoon: Mapped[str | None] = mapped_column(String(50))
    internetadres: Mapped[str | None] = mapped_column(String(200))
    beeindigd: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    geldig_vanaf_cyclus: Mapped[int] = mapped_column(Integer)


class RefdataFile(Base):
    """One DUO file loaded into a cycle's reference data: what ``vva refdata check`` asks for.

    ``kind`` is the file kind of ``broker.refdata.duo`` (vo-vestigingen, bo-vestigingen,
    sbo-so-vso-vestigingen, mbo-instellingen). Named ``refdata_bestand`` before migration 0018.
    """

    __tablename__ = "refdata_file"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cyclus_jaar: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(300))
    row_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = _time()


# --- the exchange --------------------------------------------------------------------------


class Cyclus(Base):
    __tablename__ = "cyclus"

    jaar: Mapped[int] = mapped_column(Integer, primary_key=True)
    deadline: Mapped[date] = mapped_column(Date)
    geopend_op: Mapped[datetime | None] = _time()  # by ``vva cycle open`` (else created on first use)
    gesloten_op: Mapped[datetime | None] = _time()  # by ``vva cycle close``: its personal data are gone


class Leerling(Base):
    """A potential mbo-ganger as delivered by one VO school (flow a)."""

    __tablename__ = "leerling"
    __table_args__ = (UniqueConstraint("cyclus_jaar", "sleutel_hash", "brin_vo"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cyclus_jaar: Mapped[int] = mapped_column(Integer)
    sleutel_hash: Mapped[str] = mapped_column(String(64), index=True)
    nummer_versleuteld: Mapped[bytes] = mapped_column(LargeBinary)
    brin_vo: Mapped[str] = mapped_column(String(4), index=True)
    vestiging: Mapped[str | None] = mapped_column(String(6))
    postcode: Mapped[str | None] = mapped_column(String(6))
    gemeentecode: Mapped[str | None] = mapped_column(String(4), index=True)
    status: Mapped[str] = mapped_column(String(20))
    afmeldreden: Mapped[str | None] = mapped_column(String(40))
    # The VO outcome of the school year as the school last reported it (migration 0016, issue 16):
    # ``ExamenUitkomst`` and its date; both NULL until the school reports one.
    examen_uitkomst: Mapped[str | None] = mapped_column(String(24))
    examen_datum: Mapped[date | None] = mapped_column(Date)
    aangeleverd_op: Mapped[datetime] = _time()
    gewijzigd_op: Mapped[datetime] = _time()


class LeerlingMutatie(Base):
    """Every mutation of a potential mbo-ganger, with its time (reports need the history)."""

    __tablename__ = "leerling_mutatie"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    leerling_id: Mapped[int] = mapped_column(ForeignKey("leerling.id", ondelete="CASCADE"), index=True)
    mutatie: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    afmeldreden: Mapped[str | None] = mapped_column(String(40))
    # The exam result this mutation reported, if any (migration 0016): the history of the outcome.
    examen_uitkomst: Mapped[str | None] = mapped_column(String(24))
    examen_datum: Mapped[date | None] = mapped_column(Date)
    vastgelegd_op: Mapped[datetime] = _time()
    bericht_id: Mapped[int | None] = mapped_column(ForeignKey("bericht.id"))
    # Set instead of leerling_id, so a batch of new pupils and their mutations is inserted in a few
    # multi-row statements instead of one flush per pupil (bench/bulk_delivery.py).
    leerling: Mapped[Leerling] = relationship()


class Aanmelding(Base):
    """A registration of a pupil at an MBO institution (flow b, or flow d on its behalf)."""

    __tablename__ = "aanmelding"
    __table_args__ = (UniqueConstraint("cyclus_jaar", "sleutel_hash", "brin_mbo", "crebo"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cyclus_jaar: Mapped[int] = mapped_column(Integer)
    sleutel_hash: Mapped[str] = mapped_column(String(64), index=True)
    nummer_versleuteld: Mapped[bytes] = mapped_column(LargeBinary)
    brin_mbo: Mapped[str] = mapped_column(String(4), index=True)
    crebo: Mapped[str] = mapped_column(String(5), default="")
    locatie: Mapped[str | None] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(24))
    status_datum: Mapped[date] = mapped_column(Date)
    # The last reported intake and onderwijsovereenkomst (migration 0016, issue 16); NULL until the
    # institution reports them. Their history is ``aanmelding_feit``.
    intake_datum: Mapped[date | None] = mapped_column(Date)
    intake_uitkomst: Mapped[str | None] = mapped_column(String(20))
    overeenkomst_datum: Mapped[date | None] = mapped_column(Date)
    aangemaakt_op: Mapped[datetime] = _time()
    gewijzigd_op: Mapped[datetime] = _time()


class AanmeldingOvergang(Base):
    """One status transition of a registration, as reported and as recorded."""

    __tablename__ = "aanmelding_overgang"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    aanmelding_id: Mapped[int] = mapped_column(ForeignKey("aanmelding.id", ondelete="CASCADE"), index=True)
    van: Mapped[str | None] = mapped_column(String(24))
    naar: Mapped[str] = mapped_column(String(24))
    datum: Mapped[date] = mapped_column(Date)
    vastgelegd_op: Mapped[datetime] = _time()
    bericht_id: Mapped[int | None] = mapped_column(ForeignKey("bericht.id"))


class AanmeldingFeit(Base):
    """An intake or onderwijsovereenkomst reported for a registration, as reported and as recorded
    (migration 0016, issue 16). ``soort`` intake | onderwijsovereenkomst; ``uitkomst`` the intake's
    ``IntakeUitkomst``, NULL for an onderwijsovereenkomst. A repeat of the current value adds no row."""

    __tablename__ = "aanmelding_feit"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    aanmelding_id: Mapped[int] = mapped_column(ForeignKey("aanmelding.id", ondelete="CASCADE"), index=True)
    soort: Mapped[str] = mapped_column(String(24))
    datum: Mapped[date] = mapped_column(Date)
    uitkomst: Mapped[str | None] = mapped_column(String(20))
    vastgelegd_op: Mapped[datetime] = _time()
    bericht_id: Mapped[int | None] = mapped_column(ForeignKey("bericht.id"))


class Wijziging(Base):
    """The change feed: one row per change of a pupil; the cursor of ``opvragenWijzigingen``.

    ``volgnummer`` is the change's position in commit order, given at commit from ``wijziging_counter``
    (``broker.db.commit_order``), never by the database at insert."""

    __tablename__ = "wijziging"

    volgnummer: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    cyclus_jaar: Mapped[int] = mapped_column(Integer)
    sleutel_hash: Mapped[str] = mapped_column(String(64), index=True)
    vastgelegd_op: Mapped[datetime] = _time()


class WijzigingCounter(Base):
    """One row: the last position handed out in the change feed. Taking positions locks it until the
    transaction ends, so positions follow commit order (``broker.db.commit_order``). Named
    ``wijziging_teller`` before migration 0018."""

    __tablename__ = "wijziging_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class Signaal(Base):
    """A signal to a party (e.g. a pupil not registered by the deadline).

    ``sleutel`` identifies what the signal is about (kind, BRIN, pupil pseudonym): unique per party and
    cycle, so ``vva signals run`` can run daily and never signals the same thing twice.
    """

    __tablename__ = "signaal"
    __table_args__ = (UniqueConstraint("cyclus_jaar", "partij_oin", "sleutel"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    cyclus_jaar: Mapped[int] = mapped_column(Integer)
    partij_oin: Mapped[str] = mapped_column(String(20), index=True)
    soort: Mapped[str] = mapped_column(String(40))
    brin: Mapped[str | None] = mapped_column(String(4))
    sleutel_hash: Mapped[str | None] = mapped_column(String(64))
    nummer_versleuteld: Mapped[bytes | None] = mapped_column(LargeBinary)
    omschrijving: Mapped[str] = mapped_column(Text, default="")
    aangemaakt_op: Mapped[datetime] = _time()
    sleutel: Mapped[str | None] = mapped_column(String(120))


# --- the message log -----------------------------------------------------------------------


class Bericht(Base):
    """Every inbound and outbound message, raw, persisted before it has any business effect."""

    __tablename__ = "bericht"
    __table_args__ = (Index("ix_bericht_afzender_message_id", "afzender_oin", "message_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    richting: Mapped[str] = mapped_column(String(3))  # in | uit
    dienst: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str | None] = mapped_column(String(200))
    afzender_oin: Mapped[str | None] = mapped_column(String(20))
    ontvanger_oin: Mapped[str | None] = mapped_column(String(20))
    certificaat_oin: Mapped[str | None] = mapped_column(String(20))
    message_id: Mapped[str | None] = mapped_column(String(100))
    relates_to: Mapped[str | None] = mapped_column(String(100))
    tijdstip: Mapped[datetime] = _time()
    http_status: Mapped[int | None] = mapped_column(Integer)
    uitkomst: Mapped[str] = mapped_column(String(40))  # ontvangen | verwerkt | faultcode
    reden: Mapped[str | None] = mapped_column(String(200))  # audit class, never payload values
    inhoud: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM ciphertext when ``versleuteld``
    versleuteld: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OntvangenMessageId(Base):
    """A processed request's MessageID, remembered for idempotent redelivery and replay refusal
    (O5; H64–H67). Written in the same transaction as the
    business effect, so it exists exactly when the request was applied; survives restarts."""

    __tablename__ = "ontvangen_message_id"

    afzender_oin: Mapped[str] = mapped_column(String(20), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(45), primary_key=True)  # lowercase UUID, no urn prefix
    body_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the exc-c14n Body
    handtekening_digest: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the SignatureValue
    certificaat_oin: Mapped[str | None] = mapped_column(String(20))
    antwoord_id: Mapped[int] = mapped_column(ForeignKey("bericht.id"))
    ontvangen_op: Mapped[datetime] = _time()


#: The statuses of an outbox row (``OutboxMessage.status``): queued, claimed by a delivery worker,
#: delivered, given up, and dropped unsent (the receiver may not see it any more, or it says nothing new).
#: The values are stored and shown by ``vva outbox list`` and in ``vva_outbox_messages{status}``.
WACHTEND, BEZIG, AFGELEVERD, DOOD, VERVALLEN = "wachtend", "bezig", "afgeleverd", "dood", "vervallen"


class OutboxMessage(Base):
    """A push waiting to be delivered (the transactional outbox): written in the same transaction as
    the change it announces, sent by ``vva outbox run``, every attempt in the message log.

    ``content`` is the Body content (XML) encrypted with the installation's key (it holds a BSN);
    ``message_id`` is fixed at creation so every retry is recognisably the same message (O5);
    ``ordering_key`` (the pupil's pseudonym) keeps one pupil's pushes to one receiver in order: the
    order of ``id``, which is drawn at commit in commit order (``broker.db.commit_order``).
    Named ``uitgaand_bericht`` with Dutch columns before migration 0017.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_queue", "status", "next_attempt_at"),
        Index("ix_outbox_message_order", "receiver_oin", "ordering_key", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    receiver_oin: Mapped[str] = mapped_column(String(20))
    endpoint: Mapped[str] = mapped_column(String(500))
    operation: Mapped[str] = mapped_column(String(40))  # ontvangenWijziging | ontvangenSignaal
    ordering_key: Mapped[str] = mapped_column(String(64))
    signaal_id: Mapped[int | None] = mapped_column(ForeignKey("signaal.id"))  # for ontvangenSignaal
    message_id: Mapped[str] = mapped_column(String(45), unique=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12))  # WACHTEND | BEZIG | AFGELEVERD | DOOD | VERVALLEN
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = _time()
    first_attempt_at: Mapped[datetime | None] = _time()  # the retry window counts from here
    claimed_until: Mapped[datetime | None] = _time()
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _time()
    delivered_at: Mapped[datetime | None] = _time()
    content_digest: Mapped[str | None] = mapped_column(String(64))  # what it told (to skip a repeat)


# --- the audit trail (AVG logging) -----------------------------------------------------------


class AuditRecord(Base):
    """One operation on personal data: who (OIN, certificate), what, when, how many, the outcome.

    Append-only (a database trigger refuses UPDATE and DELETE) and tamper-evident: ``hash`` is the
    SHA-256 of this row's fields and ``previous_hash``, so changing any row breaks the chain from there
    on (``broker.audit.trail``). Which pupils were touched is in ``audit_leerling``; this row keeps only
    a salted digest of them (``subjects_digest``), so the chain stays verifiable after the yearly purge
    deletes them. Named ``audit_regel`` with Dutch columns before migration 0019.
    """

    __tablename__ = "audit_record"

    sequence_number: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    recorded_at: Mapped[str] = mapped_column(String(32), index=True)  # ISO 8601 UTC, exactly as hashed
    cyclus_jaar: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10))  # soap | push | beheer
    partij_oin: Mapped[str | None] = mapped_column(String(20))
    certificate: Mapped[str | None] = mapped_column(String(120))
    operation: Mapped[str] = mapped_column(String(80))
    message_id: Mapped[str | None] = mapped_column(String(100))
    record_count: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    subjects_digest: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditLeerling(Base):
    """A pupil (pseudonym) touched by one audited operation; deleted with the cycle's personal data."""

    __tablename__ = "audit_leerling"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    sequence_number: Mapped[int] = mapped_column(ForeignKey("audit_record.sequence_number"), index=True)
    cyclus_jaar: Mapped[int] = mapped_column(Integer, index=True)
    sleutel_hash: Mapped[str] = mapped_column(String(64), index=True)
    salt: Mapped[str] = mapped_column(String(32))


class AuditHead(Base):
    """The head of the audit chain (one row): appending locks it, so records chain in one order.
    ``counter`` is the number of records, the last one's ``volgnummer``; ``last_hash`` its hash.
    Named ``audit_kop`` before migration 0018."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


# --- yearly aggregates (survive the purge) --------------------------------------------------


class Jaarcijfer(Base):
    """One anonymous yearly aggregate of a closed cycle: what the trend figures read after the purge.

    ``niveau`` landelijk | school | instelling | regio; ``eenheid`` '' (landelijk), a BRIN4 (school,
    instelling) or an RMC code (regio); ``cijfer`` the figure's name (``broker.rapportage.cijfers``);
    ``dimensie`` a status, an ISO week ("2027-W05"), a lead-time bucket or ''. ``waarde`` is NULL
    when the cell is suppressed: a count of 1 to 4, a median/percentile on fewer than 5, or a
    complementary cell of any size withheld so that no small count can be computed back
    (docs/disclosure.md). No pupil-level rows: nothing here names a pupil.
    """

    __tablename__ = "jaarcijfer"
    __table_args__ = (UniqueConstraint("jaar", "niveau", "eenheid", "cijfer", "dimensie"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    jaar: Mapped[int] = mapped_column(Integer)
    niveau: Mapped[str] = mapped_column(String(12))
    eenheid: Mapped[str] = mapped_column(String(6))
    cijfer: Mapped[str] = mapped_column(String(40))
    dimensie: Mapped[str] = mapped_column(String(60))
    waarde: Mapped[int | None] = mapped_column(Integer)  # NULL = suppressed (primary or complementary)
    berekend_op: Mapped[datetime] = _time()
