"""Who sees what (broker.domain.visibility)."""

from dataclasses import replace
from datetime import date, datetime

import pytest

from broker.domain.identifiers import InvalidOin, oin_for_brin
from broker.domain.status import AanmeldStatus, MboGangerStatus
from broker.domain.visibility import (
    AanmeldingFeit,
    ContactReference,
    ContactRol,
    LeerlingBeeld,
    LeerlingFeiten,
    NotVisible,
    Partij,
    PartijSoort,
    beeld_for,
    is_aangemeld,
    is_ingeschreven,
    may_see,
    normalise_rmc,
)

S = AanmeldStatus
VO_BRIN = "11VO"
OTHER_VO_BRIN = "12VO"
MBO_A = "22MA"
MBO_B = "33MB"
MBO_C = "44MC"

# Registered for contact details (``contactgegevens``), so the views show what the contact rules give;
# test_partij_zonder_contactgegevens_krijgt_er_geen checks a party without them.
VO_SCHOOL = Partij(
    oin_for_brin(VO_BRIN), PartijSoort.VO_SCHOOL, brins=frozenset({VO_BRIN}), contactgegevens=True
)
OTHER_VO_SCHOOL = Partij(
    oin_for_brin(OTHER_VO_BRIN),
    PartijSoort.VO_SCHOOL,
    brins=frozenset({OTHER_VO_BRIN}),
    contactgegevens=True,
)
MBO_INSTELLING_A = Partij(
    oin_for_brin(MBO_A), PartijSoort.MBO_INSTELLING, brins=frozenset({MBO_A}), contactgegevens=True
)
MBO_INSTELLING_C = Partij(
    oin_for_brin(MBO_C), PartijSoort.MBO_INSTELLING, brins=frozenset({MBO_C}), contactgegevens=True
)
AMSTERDAM = Partij(
    "00000001002564440000", PartijSoort.GEMEENTE, gemeentecodes=frozenset({"0363"}), contactgegevens=True
)
ROTTERDAM = Partij(
    "00000001002306608000", PartijSoort.GEMEENTE, gemeentecodes=frozenset({"0599"}), contactgegevens=True
)
REGIO_07 = Partij(
    "00000003123456780000", PartijSoort.REGIONAAL_SYSTEEM, rmc_regios=frozenset({"07"}), contactgegevens=True
)
REGIO_36 = Partij(
    "00000003876543210000", PartijSoort.REGIONAAL_SYSTEEM, rmc_regios=frozenset({"36"}), contactgegevens=True
)
REGIO_WITH_MBO = Partij(
    "00000003111111110000",
    PartijSoort.REGIONAAL_SYSTEEM,
    brins=frozenset({MBO_B}),
    rmc_regios=frozenset({"1"}),
    contactgegevens=True,
)
LEVERANCIER = Partij(
    "00000003222222220000",
    PartijSoort.LEVERANCIER,
    brins=frozenset({VO_BRIN, MBO_A}),
    gemeentecodes=frozenset({"0363"}),
    rmc_regios=frozenset({"7", "36"}),
)

AANGEMELD_A = AanmeldingFeit(MBO_A, S.AANGEMELD, date(2027, 3, 1))
GEWEIGERD_B = AanmeldingFeit(MBO_B, S.GEWEIGERD, date(2027, 3, 20))
ONTVANGEN_B = AanmeldingFeit(MBO_B, S.AANMELDING_ONTVANGEN, date(2027, 3, 25))


def leerling(aanmeldingen=(AANGEMELD_A, GEWEIGERD_B), **overrides):
    """Pupil of VO school 11VO (RMC region 36), living in Amsterdam (RMC region 7)."""
    fields = dict(
        brin_vo=VO_BRIN,
        vo_rmc_regio="36",
        gemeentecode="0363",
        woon_rmc_regio="7",
        mbo_ganger_status=MboGangerStatus.ACTIEF,
        aanmeldingen=aanmeldingen,
    )
    fields.update(overrides)
    return LeerlingFeiten(**fields)


# ---------------------------------------------------------------------------------------------------------
# VO school
# ---------------------------------------------------------------------------------------------------------


def test_vo_school_sees_its_own_leerling_with_all_aanmeldingen_but_no_woonplaats():
    beeld = beeld_for(VO_SCHOOL, leerling())
    assert beeld == LeerlingBeeld(
        brin_vo=VO_BRIN,
        gemeentecode=None,
        mbo_ganger_status=MboGangerStatus.ACTIEF,
        aanmeldingen=(AANGEMELD_A, GEWEIGERD_B),
        elders_aangemeld=None,
        contacten=(
            ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_A, show_brin=True),
            ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_B, show_brin=True),
        ),
    )


def test_vo_school_gets_the_contact_of_every_ontvangende_instelling_once_and_not_its_own():
    second_a = AanmeldingFeit(MBO_A, S.AANGEMELD, date(2027, 3, 2), crebo="25180")
    beeld = beeld_for(VO_SCHOOL, leerling(aanmeldingen=(AANGEMELD_A, ONTVANGEN_B, second_a)))
    assert [(c.rol, c.brin) for c in beeld.contacten] == [
        (ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_A),
        (ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_B),
    ]
    assert beeld_for(VO_SCHOOL, leerling(aanmeldingen=())).contacten == ()


def test_vo_school_does_not_see_a_leerling_of_another_school():
    assert may_see(OTHER_VO_SCHOOL, leerling()) is False
    with pytest.raises(NotVisible):
        beeld_for(OTHER_VO_SCHOOL, leerling())


def test_vo_school_does_not_see_a_leerling_without_vo_school():
    assert may_see(VO_SCHOOL, leerling(brin_vo=None, mbo_ganger_status=None)) is False


# ---------------------------------------------------------------------------------------------------------
# MBO institution
# ---------------------------------------------------------------------------------------------------------


def test_mbo_instelling_sees_only_its_own_aanmeldingen():
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(AANGEMELD_A, ONTVANGEN_B)))
    assert beeld.aanmeldingen == (AANGEMELD_A,)
    assert {a.brin_mbo for a in beeld.aanmeldingen} == {MBO_A}
    assert (beeld.brin_vo, beeld.gemeentecode, beeld.mbo_ganger_status) == (None, None, None)


def test_mbo_instelling_never_sees_the_brin_of_another_instelling():
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(AANGEMELD_A, ONTVANGEN_B, GEWEIGERD_B)))
    assert MBO_B not in repr(beeld)
    assert VO_BRIN not in repr(beeld)
    assert "0363" not in repr(beeld)


def test_mbo_instelling_gets_only_the_contact_of_the_latende_school_without_brin():
    # Item 5: the school's contact details, never another institution's: elsewhere stays yes/no.
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(AANGEMELD_A, ONTVANGEN_B)))
    assert beeld.contacten == (ContactReference(ContactRol.LATENDE_VO_SCHOOL, VO_BRIN, show_brin=False),)
    assert all(c.brin != MBO_B and c.rol is ContactRol.LATENDE_VO_SCHOOL for c in beeld.contacten)
    assert beeld.elders_aangemeld is True


def test_mbo_instelling_without_latende_school_gets_no_contact():
    beeld = beeld_for(MBO_INSTELLING_A, leerling(brin_vo=None, mbo_ganger_status=None))
    assert beeld.contacten == ()


def test_mbo_instelling_hears_of_an_active_aanmelding_elsewhere():
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(AANGEMELD_A, ONTVANGEN_B)))
    assert beeld.elders_aangemeld is True


def test_geweigerd_elsewhere_does_not_count_as_aangemeld_elsewhere():
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(AANGEMELD_A, GEWEIGERD_B)))
    assert beeld.elders_aangemeld is False


def test_ingetrokken_elsewhere_does_not_count_and_own_aanmelding_not_as_elsewhere():
    ingetrokken_b = AanmeldingFeit(MBO_B, S.INGETROKKEN, date(2027, 4, 2))
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(AANGEMELD_A, ingetrokken_b)))
    assert beeld.elders_aangemeld is False


def test_mbo_instelling_also_sees_its_own_geweigerd_aanmelding():
    geweigerd_a = AanmeldingFeit(MBO_A, S.GEWEIGERD, date(2027, 4, 10))
    beeld = beeld_for(MBO_INSTELLING_A, leerling(aanmeldingen=(geweigerd_a, ONTVANGEN_B)))
    assert beeld.aanmeldingen == (geweigerd_a,)
    assert beeld.elders_aangemeld is True


def test_mbo_instelling_without_aanmelding_does_not_see_the_leerling():
    assert may_see(MBO_INSTELLING_C, leerling()) is False
    with pytest.raises(NotVisible):
        beeld_for(MBO_INSTELLING_C, leerling())


# ---------------------------------------------------------------------------------------------------------
# Gemeente
# ---------------------------------------------------------------------------------------------------------


def test_gemeente_sees_its_own_resident_completely():
    beeld = beeld_for(AMSTERDAM, leerling())
    assert beeld == LeerlingBeeld(
        brin_vo=VO_BRIN,
        gemeentecode="0363",
        mbo_ganger_status=MboGangerStatus.ACTIEF,
        aanmeldingen=(AANGEMELD_A, GEWEIGERD_B),
        elders_aangemeld=None,
        contacten=(
            ContactReference(ContactRol.LATENDE_VO_SCHOOL, VO_BRIN, show_brin=True),
            ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_A, show_brin=True),
            ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_B, show_brin=True),
        ),
    )


def test_gemeente_does_not_see_a_resident_of_another_gemeente():
    assert may_see(ROTTERDAM, leerling()) is False
    with pytest.raises(NotVisible):
        beeld_for(ROTTERDAM, leerling())


def test_gemeente_does_not_see_a_leerling_without_known_woonplaats():
    assert may_see(AMSTERDAM, leerling(gemeentecode=None, woon_rmc_regio=None)) is False


# ---------------------------------------------------------------------------------------------------------
# Gemeente as RMC function (issue 15 item 3)
# ---------------------------------------------------------------------------------------------------------

#: The contact gemeente of RMC region 7, registered with its own code and the region ("07" as typed).
RMC_FUNCTIE_07 = Partij(
    "00000001002564440001",
    PartijSoort.GEMEENTE,
    gemeentecodes=frozenset({"0363"}),
    rmc_regios=frozenset({"07"}),
    contactgegevens=True,
)


def test_rmc_functie_sees_a_resident_of_another_gemeente_of_its_regio_with_woongemeente():
    # Lives in Diemen (0384), region 7; the school lies in region 36.
    feiten = leerling(gemeentecode="0384", woon_rmc_regio="7")
    assert may_see(RMC_FUNCTIE_07, feiten) is True
    # Like any gemeente: the contact details of the school and of every institution (issue 15, item 5).
    assert beeld_for(RMC_FUNCTIE_07, feiten) == LeerlingBeeld(
        brin_vo=VO_BRIN,
        gemeentecode="0384",
        mbo_ganger_status=MboGangerStatus.ACTIEF,
        aanmeldingen=(AANGEMELD_A, GEWEIGERD_B),
        elders_aangemeld=None,
        contacten=(
            ContactReference(ContactRol.LATENDE_VO_SCHOOL, VO_BRIN, show_brin=True),
            ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_A, show_brin=True),
            ContactReference(ContactRol.ONTVANGENDE_MBO_INSTELLING, MBO_B, show_brin=True),
        ),
    )


def test_rmc_functie_does_not_see_a_resident_outside_its_regio_not_even_via_the_school():
    # Lives in Haarlem (0392, region 25), goes to a school in region 7: not the region's resident.
    feiten = leerling(gemeentecode="0392", woon_rmc_regio="25", vo_rmc_regio="7")
    assert may_see(RMC_FUNCTIE_07, feiten) is False
    with pytest.raises(NotVisible):
        beeld_for(RMC_FUNCTIE_07, feiten)


def test_rmc_functie_sees_its_own_resident_even_without_known_regio():
    assert may_see(RMC_FUNCTIE_07, leerling(woon_rmc_regio=None)) is True


def test_gemeente_without_regio_does_not_see_the_neighbouring_gemeente_of_its_regio():
    feiten = leerling(gemeentecode="0384", woon_rmc_regio="7")
    assert may_see(AMSTERDAM, feiten) is False


# ---------------------------------------------------------------------------------------------------------
# Regional system
# ---------------------------------------------------------------------------------------------------------


def test_regio_sees_a_resident_of_its_own_regio_with_a_school_elsewhere():
    # School in region 36, residence in region 7 (stored as "07" by the regional system).
    feiten = leerling()
    assert may_see(REGIO_07, feiten) is True
    beeld = beeld_for(REGIO_07, feiten)
    # Flow d carries BRIN VO, BRIN MBO, BSN and status: never the residence.
    assert (beeld.brin_vo, beeld.gemeentecode) == (VO_BRIN, None)
    assert beeld.aanmeldingen == (AANGEMELD_A, GEWEIGERD_B)
    assert beeld.elders_aangemeld is None
    assert beeld.contacten == ()  # flow d carries no contact details


def test_regio_sees_a_leerling_of_a_school_in_its_own_regio():
    assert may_see(REGIO_36, leerling()) is True


def test_regio_does_not_see_a_leerling_without_a_tie_to_the_regio():
    feiten = leerling(vo_rmc_regio="1", woon_rmc_regio="2")
    assert may_see(REGIO_07, feiten) is False
    with pytest.raises(NotVisible):
        beeld_for(REGIO_07, feiten)


def test_regio_sees_a_leerling_who_registered_at_its_mbo_instelling():
    feiten = leerling(vo_rmc_regio="36", woon_rmc_regio="7", aanmeldingen=(ONTVANGEN_B,))
    assert may_see(REGIO_WITH_MBO, feiten) is True
    assert may_see(REGIO_WITH_MBO, leerling(aanmeldingen=(AANGEMELD_A,))) is False


def test_regio_sees_a_leerling_of_a_vo_school_it_serves_even_outside_its_regio():
    # Flow d both ways: the regional system passes on 11VO's start population, so it sees those
    # pupils (school region 36, residence region 7) like pupils of its own region, without the residence.
    serving = Partij(
        "00000003333333330000",
        PartijSoort.REGIONAAL_SYSTEEM,
        brins=frozenset({VO_BRIN}),
        contactgegevens=True,
    )
    feiten = leerling()
    assert may_see(serving, feiten) is True
    assert beeld_for(serving, feiten) == LeerlingBeeld(
        brin_vo=VO_BRIN,
        gemeentecode=None,
        mbo_ganger_status=MboGangerStatus.ACTIEF,
        aanmeldingen=(AANGEMELD_A, GEWEIGERD_B),
        elders_aangemeld=None,
    )
    assert may_see(serving, leerling(brin_vo=OTHER_VO_BRIN, aanmeldingen=())) is False


def test_regio_via_its_own_instelling_gets_what_the_instelling_gets_also_the_contact():
    feiten = leerling(aanmeldingen=(ONTVANGEN_B, AANGEMELD_A))
    beeld = beeld_for(REGIO_WITH_MBO, feiten)
    assert beeld.contacten == (ContactReference(ContactRol.LATENDE_VO_SCHOOL, VO_BRIN, show_brin=False),)
    assert MBO_A not in repr(beeld)


def test_contact_reference_requires_a_canonical_brin():
    with pytest.raises(ValueError):
        ContactReference(ContactRol.LATENDE_VO_SCHOOL, "11vo", show_brin=True)
    with pytest.raises(ValueError):
        ContactReference("school", VO_BRIN, show_brin=True)


# ---------------------------------------------------------------------------------------------------------
# Leverancier
# ---------------------------------------------------------------------------------------------------------


def test_supplier_sees_nothing_even_with_matching_codes():
    feiten = leerling()
    assert may_see(LEVERANCIER, feiten) is False
    with pytest.raises(NotVisible):
        beeld_for(LEVERANCIER, feiten)


# ---------------------------------------------------------------------------------------------------------
# Status summaries
# ---------------------------------------------------------------------------------------------------------


def test_is_aangemeld_and_is_ingeschreven():
    assert is_aangemeld(leerling(aanmeldingen=())) is False
    assert is_aangemeld(leerling(aanmeldingen=(GEWEIGERD_B,))) is False
    assert is_aangemeld(leerling(aanmeldingen=(GEWEIGERD_B, ONTVANGEN_B))) is True
    assert is_ingeschreven(leerling(aanmeldingen=(AANGEMELD_A,))) is False
    ingeschreven = AanmeldingFeit(MBO_A, S.INGESCHREVEN, date(2027, 8, 1))
    assert is_ingeschreven(leerling(aanmeldingen=(GEWEIGERD_B, ingeschreven))) is True
    assert is_aangemeld(leerling(aanmeldingen=(ingeschreven,))) is True


# ---------------------------------------------------------------------------------------------------------
# RMC codes and input checks
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"), [("07", "7"), ("7", "7"), (" 36 ", "36"), (7, "7"), ("40", "40")]
)
def test_normalise_rmc(code, expected):
    assert normalise_rmc(code) == expected


@pytest.mark.parametrize("code", ["0", "00", "007", "+7", "0_7", "٧", "7a", "", None, True])
def test_normalise_rmc_invalid(code):
    with pytest.raises(ValueError):
        normalise_rmc(code)


def test_partij_requires_canonical_codes():
    with pytest.raises(ValueError):
        Partij("00000001002564440000", PartijSoort.GEMEENTE, gemeentecodes=frozenset({"363"}))
    with pytest.raises(ValueError):
        Partij(oin_for_brin(VO_BRIN), PartijSoort.VO_SCHOOL, brins=frozenset({"11vo"}))
    with pytest.raises(ValueError):
        Partij("00000003123456780000", PartijSoort.REGIONAAL_SYSTEEM, rmc_regios=frozenset({"zeven"}))
    with pytest.raises(TypeError):
        Partij(oin_for_brin(VO_BRIN), PartijSoort.VO_SCHOOL, brins=VO_BRIN)
    with pytest.raises(InvalidOin):
        Partij("0000000700011vo00000", PartijSoort.VO_SCHOOL)
    with pytest.raises(ValueError):
        Partij(oin_for_brin(VO_BRIN), "school")


def test_partij_converts_collections_to_frozenset():
    partij = Partij(oin_for_brin(VO_BRIN), "vo-school", brins=[VO_BRIN])
    assert partij.brins == frozenset({VO_BRIN})
    assert partij.soort is PartijSoort.VO_SCHOOL


def test_leerlingfeiten_requires_canonical_codes():
    with pytest.raises(ValueError):
        leerling(gemeentecode="363")
    with pytest.raises(ValueError):
        leerling(brin_vo="11VO00")
    with pytest.raises(ValueError):
        leerling(woon_rmc_regio="x")
    with pytest.raises(ValueError):
        AanmeldingFeit("22ma", S.AANGEMELD, date(2027, 3, 1))
    with pytest.raises(ValueError):
        AanmeldingFeit(MBO_A, "toegelaten", date(2027, 3, 1))
    with pytest.raises(ValueError):
        AanmeldingFeit(MBO_A, S.AANGEMELD, datetime(2027, 3, 1))


def test_leerlingfeiten_converts_aanmeldingen_to_tuple():
    assert leerling(aanmeldingen=[AANGEMELD_A]).aanmeldingen == (AANGEMELD_A,)


def test_regio_that_sees_a_leerling_only_via_its_own_instelling_gets_the_instelling_beeld():
    # School in region 36 and residence in region 7: outside region 1, seen only through MBO_B.
    feiten = leerling(aanmeldingen=(AANGEMELD_A, AanmeldingFeit(MBO_B, S.AANGEMELD, date(2027, 3, 2))))
    beeld = beeld_for(REGIO_WITH_MBO, feiten)
    assert (beeld.brin_vo, beeld.gemeentecode, beeld.mbo_ganger_status) == (None, None, None)
    assert [a.brin_mbo for a in beeld.aanmeldingen] == [MBO_B]
    assert beeld.elders_aangemeld is True


# ---------------------------------------------------------------------------------------------------------
# Contact details only for parties registered for them (issue 15, item 5, hostile review)
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("partij", [VO_SCHOOL, MBO_INSTELLING_A, AMSTERDAM, REGIO_WITH_MBO], ids=str)
def test_partij_without_contactgegevens_gets_none(partij):
    # Software validating against the schema as it was before contact details would refuse the element,
    # so a party not registered for them sees exactly its view without them.
    feiten = leerling()
    with_ = beeld_for(partij, feiten)
    assert with_.contacten != ()

    without = beeld_for(replace(partij, contactgegevens=False), feiten)

    assert without == replace(with_, contacten=())


def test_partij_not_opted_in_to_contactgegevens_by_default():
    assert Partij(oin_for_brin(VO_BRIN), PartijSoort.VO_SCHOOL, brins={VO_BRIN}).contactgegevens is False
    with pytest.raises(TypeError):
        Partij(oin_for_brin(VO_BRIN), PartijSoort.VO_SCHOOL, contactgegevens="ja")
