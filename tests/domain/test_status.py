"""Registration statuses, transitions and mutations (broker.domain.status)."""

import pickle
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from broker.domain import meldingen
from broker.domain.meldingen import Rejection
from broker.domain.status import (
    ACTIEF_AANGEMELD,
    ALLOWED_OVERGANGEN,
    AanmeldStatus,
    AfmeldReden,
    Mutatie,
    Overgang,
    TransitionNotAllowed,
    check_mutatie,
    check_overgang,
    parse_aanmeldstatus,
    parse_afmeldreden,
    parse_mutatie,
)

S = AanmeldStatus


def test_status_values_are_the_message_values():
    assert [s.value for s in AanmeldStatus] == [
        "aanmeldingOntvangen",
        "aangemeld",
        "geaccepteerd",
        "ingeschreven",
        "geweigerd",
        "ingetrokken",
    ]


def test_actief_aangemeld_excludes_geweigerd_and_ingetrokken():
    assert ACTIEF_AANGEMELD == {S.AANMELDING_ONTVANGEN, S.AANGEMELD, S.GEACCEPTEERD, S.INGESCHREVEN}


def test_every_status_has_a_transition_rule():
    assert set(ALLOWED_OVERGANGEN) == {None, *AanmeldStatus}


@pytest.mark.parametrize("naar", [S.AANMELDING_ONTVANGEN, S.AANGEMELD, S.GEACCEPTEERD, S.INGESCHREVEN])
def test_first_melding_may_already_have_a_later_status(naar):
    assert check_overgang(None, naar) is True


@pytest.mark.parametrize("naar", [S.GEWEIGERD, S.INGETROKKEN])
def test_first_melding_cannot_be_geweigerd_or_ingetrokken(naar):
    with pytest.raises(TransitionNotAllowed):
        check_overgang(None, naar)


@pytest.mark.parametrize(
    ("van", "naar"),
    [
        (S.AANMELDING_ONTVANGEN, S.AANGEMELD),
        (S.AANMELDING_ONTVANGEN, S.GEWEIGERD),
        (S.AANGEMELD, S.GEACCEPTEERD),
        (S.GEACCEPTEERD, S.INGESCHREVEN),
        (S.INGESCHREVEN, S.INGETROKKEN),
        (S.GEWEIGERD, S.AANGEMELD),
        (S.INGETROKKEN, S.AANMELDING_ONTVANGEN),
    ],
)
def test_allowed_transition_must_be_recorded(van, naar):
    assert check_overgang(van, naar) is True


@pytest.mark.parametrize("status", list(AanmeldStatus))
def test_repeating_the_same_status_is_idempotent(status):
    assert check_overgang(status, status) is False


@pytest.mark.parametrize(
    ("van", "naar"),
    [
        (S.INGESCHREVEN, S.AANGEMELD),
        (S.INGESCHREVEN, S.GEWEIGERD),
        (S.GEACCEPTEERD, S.AANGEMELD),
        (S.AANGEMELD, S.AANMELDING_ONTVANGEN),
        (S.GEWEIGERD, S.INGESCHREVEN),
        (S.INGETROKKEN, S.GEACCEPTEERD),
        (S.GEWEIGERD, S.INGETROKKEN),
    ],
)
def test_transition_not_allowed(van, naar):
    with pytest.raises(TransitionNotAllowed) as info:
        check_overgang(van, naar)
    error = info.value
    assert isinstance(error, Rejection)
    assert error.melding is meldingen.OVERGANG_NIET_TOEGESTAAN
    assert (error.van, error.naar) == (van, naar)
    assert str(error).startswith("VVA111: ")


def test_transition_not_allowed_is_picklable():
    error = pickle.loads(pickle.dumps(TransitionNotAllowed(S.INGESCHREVEN, S.AANGEMELD)))
    assert (error.van, error.naar, error.melding) == (
        S.INGESCHREVEN,
        S.AANGEMELD,
        meldingen.OVERGANG_NIET_TOEGESTAAN,
    )


def test_unknown_target_status_is_not_allowed():
    with pytest.raises(TransitionNotAllowed):
        check_overgang(S.AANGEMELD, "toegelaten")


@pytest.mark.parametrize("mutatie", [Mutatie.TOEVOEGEN, Mutatie.WIJZIGEN])
def test_toevoegen_and_wijzigen_without_reden(mutatie):
    assert check_mutatie(mutatie, None) is None
    with pytest.raises(Rejection) as info:
        check_mutatie(mutatie, AfmeldReden.VERHUISD)
    assert info.value.melding is meldingen.REDEN_ONTBREEKT_OF_ONGELDIG


def test_afmelden_asks_for_a_reden():
    assert check_mutatie(Mutatie.AFMELDEN, AfmeldReden.GAAT_NAAR_HAVO_VWO) is None
    with pytest.raises(Rejection) as info:
        check_mutatie(Mutatie.AFMELDEN, None)
    assert info.value.melding is meldingen.REDEN_ONTBREEKT_OF_ONGELDIG


def test_afmelden_with_an_unknown_reden():
    with pytest.raises(Rejection) as info:
        check_mutatie(Mutatie.AFMELDEN, "geenZin")
    assert info.value.melding is meldingen.REDEN_ONTBREEKT_OF_ONGELDIG


def test_unknown_mutatie():
    with pytest.raises(Rejection) as info:
        check_mutatie("verwijderen", None)
    assert info.value.melding is meldingen.MUTATIE_ONGELDIG


def test_parse_aanmeldstatus():
    assert parse_aanmeldstatus("aanmeldingOntvangen") is S.AANMELDING_ONTVANGEN
    assert parse_aanmeldstatus(" ingeschreven ") is S.INGESCHREVEN


@pytest.mark.parametrize("given", ["Aangemeld", "aanmelding ontvangen", "AANGEMELD", "", None, 1])
def test_parse_aanmeldstatus_invalid(given):
    with pytest.raises(Rejection) as info:
        parse_aanmeldstatus(given)
    assert info.value.melding is meldingen.STATUS_ONGELDIG


def test_parse_mutatie():
    assert parse_mutatie("afmelden") is Mutatie.AFMELDEN
    with pytest.raises(Rejection) as info:
        parse_mutatie("Afmelden")
    assert info.value.melding is meldingen.MUTATIE_ONGELDIG


def test_parse_afmeldreden():
    assert parse_afmeldreden("nietGeslaagdBlijftZitten") is AfmeldReden.NIET_GESLAAGD_BLIJFT_ZITTEN
    assert parse_afmeldreden("nietMeerAangeleverd") is AfmeldReden.NIET_MEER_AANGELEVERD
    with pytest.raises(Rejection) as info:
        parse_afmeldreden("verhuist")
    assert info.value.melding is meldingen.REDEN_ONTBREEKT_OF_ONGELDIG


def test_transition_records_date_and_time():
    recorded = datetime(2027, 3, 31, 22, 15, tzinfo=UTC)
    transition = Overgang(None, S.AANGEMELD, date(2027, 3, 30), recorded)
    assert (recorded.date() - transition.datum).days == 1


def test_transition_requires_utc():
    with pytest.raises(ValueError):
        Overgang(None, S.AANGEMELD, date(2027, 3, 30), datetime(2027, 3, 31, 12, 0))
    with pytest.raises(ValueError):
        Overgang(
            None,
            S.AANGEMELD,
            date(2027, 3, 30),
            datetime(2027, 3, 31, 12, 0, tzinfo=timezone(timedelta(hours=2))),
        )


def test_transition_date_is_not_a_datetime():
    with pytest.raises(ValueError):
        Overgang(
            None,
            S.AANGEMELD,
            datetime(2027, 3, 30, tzinfo=UTC),
            datetime(2027, 3, 31, tzinfo=UTC),
        )
