"""The party register in the database (broker.registry.repository), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broker.db import models
from broker.domain.visibility import Partij, PartijSoort
from broker.registry.repository import PartijRegistry
from broker.registry.validation import MandaatInput, PartijError, PartijInput, check_all

SCHOOL = "0000000700099XA00000"
MBO = "0000000700099XB00000"
GEMEENTE = "00000099000000000363"
REGIO = "00000099000000000042"
SUPPLIER = "00000099000000000077"


def school(**fields) -> PartijInput:
    default = dict(oin=SCHOOL, soort="vo-school", naam="School (FICTIEF)", brins=("99XA",))
    return PartijInput(**(default | fields))


def count_rows(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- storing and finding ---------------------------------------------------------------------------------


def test_school_is_stored_and_found_with_its_brins(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school(brins=("99XA", "99XC"), endpoint="https://las.example/vva"))

    assert partij_registry.find(SCHOOL) == Partij(
        oin=SCHOOL, soort=PartijSoort.VO_SCHOOL, brins=frozenset({"99XA", "99XC"})
    )
    assert partij_registry.endpoint(SCHOOL) == "https://las.example/vva"
    assert partij_registry.list_() == [
        PartijInput(
            oin=SCHOOL,
            soort="vo-school",
            naam="School (FICTIEF)",
            brins=("99XA", "99XC"),
            endpoint="https://las.example/vva",
        )
    ]


def test_brin_based_oin_without_brins_acts_for_the_brin_in_its_oin(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(PartijInput(oin=MBO, soort="mbo-instelling", naam="ROC (FICTIEF)"))

    assert partij_registry.find(MBO).brins == frozenset({"99XB"})


def test_non_brin_oin_without_brins_gets_no_default(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(PartijInput(oin="00000099000000000123", soort="vo-school", naam="Bestuur (FICTIEF)"))

    assert partij_registry.find("00000099000000000123").brins == frozenset()


def test_codes_are_normalised_and_deduplicated(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(
        PartijInput(
            oin=GEMEENTE,
            soort="gemeente",
            naam="Gemeente (FICTIEF)",
            gemeentecodes=("363", "0363", "GM0599"),
            rmc_regios=("07", "21", "7"),
        )
    )

    found = partij_registry.find(GEMEENTE)
    assert found.gemeentecodes == frozenset({"0363", "0599"})
    assert found.rmc_regios == frozenset({"7", "21"})
    assert partij_registry.list_()[0].rmc_regios == ("7", "21")  # numeric order
    assert count_rows(registry_session, models.PartijScope) == 4


def test_regional_system_carries_rmc_regions_and_brins(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(
        PartijInput(
            oin=REGIO, soort="regionaal-systeem", naam="RMC (FICTIEF)", rmc_regios=("21",), brins=("99XB",)
        )
    )

    assert partij_registry.find(REGIO) == Partij(
        oin=REGIO,
        soort=PartijSoort.REGIONAAL_SYSTEEM,
        brins=frozenset({"99XB"}),
        rmc_regios=frozenset({"21"}),
    )


def test_unknown_and_inactive_parties_are_not_found(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school(endpoint="https://las.example/vva"))
    registry_session.get(models.Partij, SCHOOL).actief = False

    assert partij_registry.find(SCHOOL) is None
    assert partij_registry.endpoint(SCHOOL) is None
    assert partij_registry.find(MBO) is None
    assert partij_registry.find("not an oin") is None


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "oin",
    [
        "0000000700099xa00000",
        "0000000700099XA0000",
        "0000000700099XA000000",
        "0000000700099XA0000\n",
        " 0000000700099XA00000",
    ],
    ids=["lowercase", "19-chars", "21-chars", "trailing-newline", "leading-space"],
)
def test_invalid_oin_is_refused_and_nothing_stored(registry_session: Session, oin: str) -> None:
    partij_registry = PartijRegistry(registry_session)

    with pytest.raises(PartijError, match=r"Edukoppeling §1\.1"):
        partij_registry.add(school(oin=oin))

    assert count_rows(registry_session, models.Partij) == 0


def test_vo_school_with_gemeente_scope_is_refused(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)

    with pytest.raises(PartijError, match="gemeentecodes are only allowed for gemeente, not for vo-school"):
        partij_registry.add(school(gemeentecodes=("0363",)))

    assert count_rows(registry_session, models.Partij) == 0
    assert count_rows(registry_session, models.PartijScope) == 0


@pytest.mark.parametrize(
    ("soort", "scope"),
    [
        ("gemeente", {"brins": ("99XA",)}),
        ("leverancier", {"brins": ("99XA",)}),
        ("leverancier", {"rmc_regios": ("21",)}),
        ("mbo-instelling", {"rmc_regios": ("21",)}),
        ("regionaal-systeem", {"gemeentecodes": ("0363",)}),
    ],
)
def test_scope_not_allowed_for_the_soort_is_refused(
    registry_session: Session, soort: str, scope: dict
) -> None:
    with pytest.raises(PartijError, match=f"not for {soort}"):
        PartijRegistry(registry_session).add(
            PartijInput(oin="00000099000000000123", soort=soort, naam="X (FICTIEF)", **scope)
        )


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"soort": "school"}, "unknown soort 'school'"),
        ({"naam": "  "}, "naam must be a non-empty string"),
        ({"naam": "x" * 201}, "longer than 200"),
        ({"naam": "School\nfake row"}, "line breaks"),
        ({"brins": ("99xa",)}, "BRIN '99xa' is invalid"),
        ({"brins": "99XA"}, "must be a list"),
        ({"soort": "gemeente", "brins": (), "gemeentecodes": ("12345",)}, "gemeentecode '12345' is invalid"),
        ({"soort": "gemeente", "brins": (), "gemeentecodes": ("0000",)}, "gemeentecode '0000' is invalid"),
        ({"soort": "regionaal-systeem", "rmc_regios": ("0",)}, "RMC region '0' is invalid"),
        ({"soort": "regionaal-systeem", "rmc_regios": ("123",)}, "RMC region '123' is invalid"),
        ({"soort": "regionaal-systeem", "rmc_regios": ("+7",)}, r"RMC region '\+7' is invalid"),
        ({"endpoint": "http://las.example/vva"}, "https"),
        ({"endpoint": "https://"}, "https"),
        ({"endpoint": "https://user:geheim@las.example/vva"}, "user name or password"),
        ({"endpoint": ""}, "https"),
    ],
)
def test_invalid_values_are_refused(registry_session: Session, fields: dict, error: str) -> None:
    with pytest.raises(PartijError, match=error):
        PartijRegistry(registry_session).add(school(**fields))

    assert count_rows(registry_session, models.Partij) == 0


def test_existing_party_is_refused_without_replace(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school())

    with pytest.raises(PartijError, match=f"party {SCHOOL}: already exists"):
        partij_registry.add(school(naam="Other (FICTIEF)"))

    assert partij_registry.list_()[0].naam == "School (FICTIEF)"


def test_replace_swaps_scopes_and_mandates(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school(brins=("99XA", "99XC"), mandaten=(MandaatInput(SUPPLIER),)))

    # 99XA comes back unchanged: the old row must be gone before the new one is inserted.
    partij_registry.add(
        school(naam="Renamed (FICTIEF)", brins=("99XA",), mandaten=(MandaatInput(REGIO),)), replace=True
    )

    [partij] = partij_registry.list_()
    assert (partij.naam, partij.brins, partij.mandaten) == (
        "Renamed (FICTIEF)",
        ("99XA",),
        (MandaatInput(REGIO),),
    )
    assert count_rows(registry_session, models.PartijScope) == 1
    assert count_rows(registry_session, models.Mandaat) == 1
    assert not partij_registry.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1))


def test_replace_keeps_a_party_switched_off(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school())
    registry_session.get(models.Partij, SCHOOL).actief = False

    partij_registry.add(school(), replace=True)

    assert partij_registry.find(SCHOOL) is None


def test_remove_deletes_party_scopes_and_mandates(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school(mandaten=(MandaatInput(SUPPLIER),)))

    assert partij_registry.remove(SCHOOL) == 0

    assert partij_registry.list_() == []
    assert count_rows(registry_session, models.PartijScope) == 0
    assert count_rows(registry_session, models.Mandaat) == 0


def test_removing_a_supplier_withdraws_its_mandates(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(PartijInput(oin=SUPPLIER, soort="leverancier", naam="LAS (FICTIEF)"))
    partij_registry.add(school(mandaten=(MandaatInput(SUPPLIER),)))
    assert partij_registry.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1))

    assert partij_registry.remove(SUPPLIER) == 1

    assert not partij_registry.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1))
    assert partij_registry.list_()[0].mandaten == ()


def test_removing_an_unknown_party_is_an_error(registry_session: Session) -> None:
    with pytest.raises(PartijError, match=f"party {SCHOOL}: is not registered"):
        PartijRegistry(registry_session).remove(SCHOOL)


def test_production_refuses_test_oins(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session, production=True)

    with pytest.raises(PartijError, match="test OIN"):
        partij_registry.add(PartijInput(oin=GEMEENTE, soort="gemeente", naam="G (FICTIEF)", gemeentecodes=("0363",)))
    with pytest.raises(PartijError, match="test OIN"):
        partij_registry.add(school(mandaten=(MandaatInput(SUPPLIER),)))

    partij_registry.add(school())  # a BRIN-based OIN has no test prefix
    assert partij_registry.find(SCHOOL) is not None


# --- mandates (Edukoppeling §5) ------------------------------------------------------------------------


@pytest.fixture
def registry_with_mandaat(registry_session: Session) -> PartijRegistry:
    """School 99XA with a supplier mandate valid 2026-08-01..2027-07-31 and an open regional-system mandate."""
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(
        school(
            mandaten=(
                MandaatInput(SUPPLIER, geldig_van=date(2026, 8, 1), geldig_tot=date(2027, 7, 31)),
                MandaatInput(REGIO),
            )
        )
    )
    return partij_registry


@pytest.mark.parametrize(
    ("at", "valid"),
    [
        (date(2026, 7, 31), False),
        (date(2026, 8, 1), True),
        (date(2027, 2, 1), True),
        (date(2027, 7, 31), True),
        (date(2027, 8, 1), False),
    ],
)
def test_mandate_is_valid_only_within_its_dates(
    registry_with_mandaat: PartijRegistry, at: date, valid: bool
) -> None:
    assert registry_with_mandaat.mandaat_valid(SUPPLIER, SCHOOL, at) is valid


def test_mandate_without_dates_is_open(registry_with_mandaat: PartijRegistry) -> None:
    assert registry_with_mandaat.mandaat_valid(REGIO, SCHOOL, date(1990, 1, 1))
    assert registry_with_mandaat.mandaat_valid(REGIO, SCHOOL, date(2099, 12, 31))


def test_mandate_with_only_an_end_date(registry_session: Session) -> None:
    partij_registry = PartijRegistry(registry_session)
    partij_registry.add(school(mandaten=(MandaatInput(SUPPLIER, geldig_tot=date(2027, 7, 31)),)))

    assert partij_registry.mandaat_valid(SUPPLIER, SCHOOL, date(2000, 1, 1))
    assert not partij_registry.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 8, 1))


def test_no_mandate_means_not_valid(registry_with_mandaat: PartijRegistry) -> None:
    # A mandate is one-way: the school cannot speak for its supplier, nor a stranger for the school.
    assert not registry_with_mandaat.mandaat_valid(SCHOOL, SUPPLIER, date(2027, 1, 1))
    assert not registry_with_mandaat.mandaat_valid("00000099000000000999", SCHOOL, date(2027, 1, 1))
    assert not registry_with_mandaat.mandaat_valid(SUPPLIER, MBO, date(2027, 1, 1))


def test_same_oin_is_always_valid_m1(registry_with_mandaat: PartijRegistry) -> None:
    assert registry_with_mandaat.mandaat_valid(MBO, MBO, date(2027, 1, 1))


def test_invalid_oins_are_never_valid(registry_with_mandaat: PartijRegistry) -> None:
    assert not registry_with_mandaat.mandaat_valid(REGIO, SCHOOL.lower(), date(2027, 1, 1))
    assert not registry_with_mandaat.mandaat_valid("abc", "abc", date(2027, 1, 1))


def test_mandate_of_an_inactive_party_is_not_valid(
    registry_with_mandaat: PartijRegistry, registry_session: Session
) -> None:
    registry_session.get(models.Partij, SCHOOL).actief = False

    assert not registry_with_mandaat.mandaat_valid(REGIO, SCHOOL, date(2027, 1, 1))


def test_mandate_held_by_an_inactive_supplier_is_not_valid(
    registry_with_mandaat: PartijRegistry, registry_session: Session
) -> None:
    registry_with_mandaat.add(PartijInput(oin=SUPPLIER, soort="leverancier", naam="LAS (FICTIEF)"))
    assert registry_with_mandaat.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1))

    registry_session.get(models.Partij, SUPPLIER).actief = False

    assert not registry_with_mandaat.mandaat_valid(SUPPLIER, SCHOOL, date(2027, 1, 1))


def test_mandate_check_refuses_a_datetime(registry_with_mandaat: PartijRegistry) -> None:
    with pytest.raises(TypeError):
        registry_with_mandaat.mandaat_valid(SUPPLIER, SCHOOL, datetime(2027, 1, 1, 12, 0))


@pytest.mark.parametrize(
    ("mandaten", "error"),
    [
        (
            (MandaatInput(SUPPLIER, date(2027, 8, 1), date(2027, 7, 31)),),
            "geldig_van is after geldig_tot",
        ),
        ((MandaatInput(SCHOOL),), "own OIN is not needed"),
        ((MandaatInput(SUPPLIER), MandaatInput(SUPPLIER)), "given twice"),
        (
            (MandaatInput("0000000700099xc00000"),),
            "mandate certificate OIN '0000000700099xc00000' is invalid",
        ),
        ((MandaatInput(SUPPLIER, geldig_van=datetime(2026, 8, 1)),), "must be dates"),
    ],
    ids=["reversed-dates", "own-oin", "twice", "lowercase", "datetime"],
)
def test_invalid_mandates_are_refused(registry_session: Session, mandaten: tuple, error: str) -> None:
    with pytest.raises(PartijError, match=error):
        PartijRegistry(registry_session).add(school(mandaten=mandaten))

    assert count_rows(registry_session, models.Mandaat) == 0


def test_check_all_needs_no_database() -> None:
    clean = check_all(PartijInput(oin=SCHOOL, soort="vo-school", naam=" School (FICTIEF) ", brins=["99XA"]))

    assert clean == PartijInput(oin=SCHOOL, soort="vo-school", naam="School (FICTIEF)", brins=("99XA",))


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/vva",
        "https://169.254.169.254/latest",
        "https://10.0.0.5:5432/x",
        "https://[::1]/vva",
        "https://localhost/vva",
        "https://db.svc.cluster.local/x",
    ],
)
def test_in_production_no_endpoint_to_internal_addresses(endpoint: str) -> None:
    """The broker posts to endpoints with its own certificate: never to its host or internal networks."""
    oin = "00000001800866472000"  # not a test OIN: production refuses those
    input_ = PartijInput(
        oin=oin, soort="gemeente", naam="Gemeente", gemeentecodes=("0363",), endpoint=endpoint
    )
    with pytest.raises(PartijError, match="loopback, private or link-local"):
        check_all(input_, production=True)
    assert check_all(
        replace(input_, endpoint="https://gemeente.example/vva"), production=True
    ).endpoint.startswith("https://gemeente")
