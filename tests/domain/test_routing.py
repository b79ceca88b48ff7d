"""Who receives a push when a pupil changes (broker.domain.routing)."""

from dataclasses import replace
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.domain.identifiers import oin_for_brin
from broker.domain.routing import Push, receivers
from broker.domain.status import AanmeldStatus, MboGangerStatus
from broker.domain.visibility import (
    AanmeldingFeit,
    ContactReference,
    ContactRol,
    LeerlingBeeld,
    LeerlingFeiten,
    Partij,
    PartijSoort,
    beeld_for,
)

S = AanmeldStatus

# RMC regions of the demo gemeenten (broker/refdata/demo): Groningen 3, Amsterdam 21, Rotterdam 29.
# Diemen (0384) shares region 21 with Amsterdam, so an RMC function sees a gemeente other than its own.
WOON_RMC = {"0014": "3", "0363": "21", "0384": "21", "0599": "29"}

VO_BRIN = "10VO"
OTHER_VO_BRIN = "11VO"
MBO_A = "20MA"
MBO_B = "21MB"
MBO_C = "22MC"

# Registered for contact details (``contactgegevens``); a party without them: see
# test_partij_zonder_contactgegevens_krijgt_geen_push_voor_alleen_contactgegevens.
VO_SCHOOL = Partij(oin_for_brin(VO_BRIN), PartijSoort.VO_SCHOOL, brins={VO_BRIN}, contactgegevens=True)
OTHER_VO_SCHOOL = Partij(
    oin_for_brin(OTHER_VO_BRIN), PartijSoort.VO_SCHOOL, brins={OTHER_VO_BRIN}, contactgegevens=True
)
MBO_INSTELLING_A = Partij(
    oin_for_brin(MBO_A), PartijSoort.MBO_INSTELLING, brins={MBO_A}, contactgegevens=True
)
MBO_INSTELLING_C = Partij(
    oin_for_brin(MBO_C), PartijSoort.MBO_INSTELLING, brins={MBO_C}, contactgegevens=True
)
AMSTERDAM = Partij("00000001002564440000", PartijSoort.GEMEENTE, gemeentecodes={"0363"}, contactgegevens=True)
ROTTERDAM = Partij("00000001002306608000", PartijSoort.GEMEENTE, gemeentecodes={"0599"}, contactgegevens=True)
REGIO_RIJNMOND = Partij(
    "00000003290000000000", PartijSoort.REGIONAAL_SYSTEEM, rmc_regios={"29"}, contactgegevens=True
)
REGIO_AMSTERDAM = Partij(
    "00000003210000000000", PartijSoort.REGIONAAL_SYSTEEM, rmc_regios={"21"}, contactgegevens=True
)
# Stored with a leading zero ("03"); it must still match a pupil of region 3.
REGIO_GRONINGEN = Partij(
    "00000003030000000000", PartijSoort.REGIONAAL_SYSTEEM, rmc_regios={"03"}, contactgegevens=True
)
LEVERANCIER = Partij(
    "00000003222222220000",
    PartijSoort.LEVERANCIER,
    brins={VO_BRIN, MBO_A},
    gemeentecodes={"0363", "0599"},
    rmc_regios={"21", "29"},
)

IN_SCOPE = [VO_SCHOOL, REGIO_RIJNMOND, REGIO_AMSTERDAM, AMSTERDAM, MBO_INSTELLING_A]
OUT_OF_SCOPE = [OTHER_VO_SCHOOL, ROTTERDAM, REGIO_GRONINGEN, MBO_INSTELLING_C, LEVERANCIER]
ALL_PARTIJEN = [
    VO_SCHOOL,
    OTHER_VO_SCHOOL,
    REGIO_RIJNMOND,
    REGIO_AMSTERDAM,
    REGIO_GRONINGEN,
    AMSTERDAM,
    ROTTERDAM,
    MBO_INSTELLING_A,
    MBO_INSTELLING_C,
    LEVERANCIER,
]

AANGEMELD_A = AanmeldingFeit(MBO_A, S.AANGEMELD, date(2027, 3, 1), crebo="25187")
AANGEMELD_B = AanmeldingFeit(MBO_B, S.AANGEMELD, date(2027, 3, 10))
GEACCEPTEERD_B = AanmeldingFeit(MBO_B, S.GEACCEPTEERD, date(2027, 4, 2))
GEWEIGERD_B = AanmeldingFeit(MBO_B, S.GEWEIGERD, date(2027, 4, 2))


def leerling(aanmeldingen=(AANGEMELD_A, AANGEMELD_B), **overrides):
    """Pupil of VO school 10VO in Rotterdam (RMC 29), living in Amsterdam (0363, RMC 21)."""
    fields = dict(
        brin_vo=VO_BRIN,
        vo_rmc_regio="29",
        gemeentecode="0363",
        woon_rmc_regio="21",
        mbo_ganger_status=MboGangerStatus.ACTIEF,
        aanmeldingen=aanmeldingen,
    )
    fields.update(overrides)
    return LeerlingFeiten(**fields)


def receiving_partijen(pushes):
    return [push.partij for push in pushes]


# ---------------------------------------------------------------------------------------------------------
# Who receives
# ---------------------------------------------------------------------------------------------------------


def test_partijen_in_scope_receive_in_the_given_order():
    assert receiving_partijen(receivers(leerling(), ALL_PARTIJEN)) == [
        VO_SCHOOL,
        REGIO_RIJNMOND,
        REGIO_AMSTERDAM,
        AMSTERDAM,
        MBO_INSTELLING_A,
    ]


def test_partijen_out_of_scope_receive_nothing():
    assert receivers(leerling(), OUT_OF_SCOPE) == []


def test_gemeente_of_the_school_is_not_the_woongemeente_and_receives_nothing():
    # The school is in Rotterdam, the pupil lives in Amsterdam: only Amsterdam is responsible.
    assert receivers(leerling(), [ROTTERDAM]) == []


def test_supplier_never_receives_not_even_with_all_codes():
    assert receivers(leerling(), [LEVERANCIER]) == []


def test_regio_with_a_leading_zero_receives_a_leerling_from_that_regio():
    groninger = leerling(gemeentecode="0014", woon_rmc_regio="3")
    pushes = receivers(groninger, [REGIO_GRONINGEN, REGIO_AMSTERDAM])
    assert receiving_partijen(pushes) == [REGIO_GRONINGEN]


def test_every_partij_at_most_once():
    pushes = receivers(leerling(), [VO_SCHOOL, AMSTERDAM, VO_SCHOOL, AMSTERDAM])
    assert receiving_partijen(pushes) == [VO_SCHOOL, AMSTERDAM]


def test_no_partijen_no_pushes():
    assert receivers(leerling(), []) == []


# ---------------------------------------------------------------------------------------------------------
# What they receive
# ---------------------------------------------------------------------------------------------------------


def test_push_content_is_exactly_the_beeld_of_the_partij():
    feiten = leerling()
    for push in receivers(feiten, IN_SCOPE):
        assert push == Push(push.partij, beeld_for(push.partij, feiten))


def test_mbo_instelling_gets_only_its_own_aanmelding_and_elsewhere_yes_no():
    [push] = receivers(leerling(), [MBO_INSTELLING_A])
    assert push.beeld == LeerlingBeeld(
        brin_vo=None,
        gemeentecode=None,
        mbo_ganger_status=None,
        aanmeldingen=(AANGEMELD_A,),
        elders_aangemeld=True,
        contacten=(ContactReference(ContactRol.LATENDE_VO_SCHOOL, VO_BRIN, show_brin=False),),
    )


def test_partij_without_contactgegevens_gets_no_push_for_contactgegevens_alone():
    # The pupil moves to another VO school: an MBO institution sees only the school's contact details
    # change. Registered for them it is told; without them its view is unchanged, so no push.
    without = replace(MBO_INSTELLING_A, contactgegevens=False)
    before, after = leerling(), leerling(brin_vo=OTHER_VO_BRIN)

    pushes = receivers(after, [MBO_INSTELLING_A, without], previous=before)

    assert receiving_partijen(pushes) == [MBO_INSTELLING_A]
    assert receivers(after, [without])[0].beeld.contacten == ()


def test_vo_school_gets_no_woonplaats():
    [push] = receivers(leerling(), [VO_SCHOOL])
    assert push.beeld.brin_vo == VO_BRIN
    assert push.beeld.gemeentecode is None
    assert [a.brin_mbo for a in push.beeld.aanmeldingen] == [MBO_A, MBO_B]


def test_woongemeente_gets_gemeentecode():
    [push] = receivers(leerling(), [AMSTERDAM])
    assert push.beeld.gemeentecode == "0363"


# ---------------------------------------------------------------------------------------------------------
# Changes: only what changed for the party, never to a party that lost sight of the pupil
# ---------------------------------------------------------------------------------------------------------


def test_unchanged_beeld_is_not_pushed():
    before = leerling()
    assert receivers(before, ALL_PARTIJEN, previous=before) == []


def test_mbo_instelling_does_not_hear_of_a_change_elsewhere_that_leaves_its_beeld_alone():
    # 21MB goes from aangemeld to geaccepteerd: still active elsewhere, 20MA's own registration unchanged.
    before = leerling()
    after = leerling(aanmeldingen=(AANGEMELD_A, GEACCEPTEERD_B))
    pushes = receivers(after, ALL_PARTIJEN, previous=before)
    assert receiving_partijen(pushes) == [VO_SCHOOL, REGIO_RIJNMOND, REGIO_AMSTERDAM, AMSTERDAM]


def test_mbo_instelling_does_hear_that_aangemeld_elsewhere_lapses():
    before = leerling()
    after = leerling(aanmeldingen=(AANGEMELD_A, GEWEIGERD_B))
    [push] = receivers(after, [MBO_INSTELLING_A], previous=before)
    assert push.beeld.elders_aangemeld is False
    assert push.beeld.aanmeldingen == (AANGEMELD_A,)


def test_partij_that_loses_sight_gets_nothing_not_even_an_afmelding():
    # The pupil moves from Amsterdam to Rotterdam (RMC 29, the school's region anyway).
    before = leerling()
    after = leerling(gemeentecode="0599", woon_rmc_regio="29")
    pushes = receivers(after, [AMSTERDAM, REGIO_AMSTERDAM, ROTTERDAM], previous=before)
    assert receiving_partijen(pushes) == [ROTTERDAM]


def test_new_instelling_gets_the_complete_beeld():
    before = leerling(aanmeldingen=(AANGEMELD_B,))
    after = leerling()
    [push] = receivers(after, [MBO_INSTELLING_A], previous=before)
    assert push.beeld.aanmeldingen == (AANGEMELD_A,)


def test_rmc_functie_receives_a_resident_of_another_gemeente_of_its_regio():
    rmc_functie = Partij(
        "00000001002564440001", PartijSoort.GEMEENTE, gemeentecodes={"0363"}, rmc_regios={"21"}
    )
    diemen = leerling(gemeentecode="0384", woon_rmc_regio="21", vo_rmc_regio="29")
    pushes = receivers(diemen, [AMSTERDAM, rmc_functie, ROTTERDAM])
    assert receiving_partijen(pushes) == [rmc_functie]
    assert pushes[0].beeld.gemeentecode == "0384"


# ---------------------------------------------------------------------------------------------------------
# Property: every receiver is in scope, and nobody in scope is forgotten (independent oracle)
# ---------------------------------------------------------------------------------------------------------

VO_BRINS = ["10VO", "11VO"]
MBO_BRINS = ["20MA", "21MB", "22MC"]
RMC_SPELLINGS = {"1": ["1", "01"], "3": ["3", "03"], "21": ["21"], "29": ["29"]}


def rmc_code():
    """An RMC region from the small universe, possibly written with a leading zero."""
    return st.sampled_from(sorted(RMC_SPELLINGS)).flatmap(lambda r: st.sampled_from(RMC_SPELLINGS[r]))


@st.composite
def partijen(draw):
    """Random parties of every kind with random subsets of the code universe; some listed twice."""
    count = draw(st.integers(min_value=0, max_value=8))
    list_ = [
        Partij(
            oin=f"0000000300000000{nummer:04d}",
            soort=draw(st.sampled_from(list(PartijSoort))),
            brins=draw(st.frozensets(st.sampled_from(VO_BRINS + MBO_BRINS))),
            gemeentecodes=draw(st.frozensets(st.sampled_from(sorted(WOON_RMC)))),
            rmc_regios=draw(st.frozensets(rmc_code(), max_size=3)),
            contactgegevens=draw(st.booleans()),
        )
        for nummer in range(count)
    ]
    repeated = draw(st.lists(st.sampled_from(list_), max_size=2)) if list_ else []
    return list_ + repeated


aanmeldingen = st.lists(
    st.builds(
        AanmeldingFeit,
        brin_mbo=st.sampled_from(MBO_BRINS),
        status=st.sampled_from(list(AanmeldStatus)),
        datum=st.dates(min_value=date(2026, 10, 1), max_value=date(2027, 9, 30)),
        crebo=st.none() | st.sampled_from(["25187", "23089"]),
    ),
    max_size=4,
)


@st.composite
def leerlingen(draw):
    """A random pupil whose woon_rmc_regio is consistent with the gemeente (WOON_RMC)."""
    brin_vo = draw(st.none() | st.sampled_from(VO_BRINS))
    gemeentecode = draw(st.none() | st.sampled_from(sorted(WOON_RMC)))
    return LeerlingFeiten(
        brin_vo=brin_vo,
        vo_rmc_regio=None if brin_vo is None else draw(rmc_code()),
        gemeentecode=gemeentecode,
        woon_rmc_regio=None if gemeentecode is None else WOON_RMC[gemeentecode],
        mbo_ganger_status=None if brin_vo is None else draw(st.sampled_from(list(MboGangerStatus))),
        aanmeldingen=draw(aanmeldingen),
    )


def _regio_number(code):
    return None if code is None else int(code)


def oracle_in_scope(partij, feiten):
    """Independent restatement of the routing rule (not calling may_see)."""
    aanmelding_at_partij = any(a.brin_mbo in partij.brins for a in feiten.aanmeldingen)
    if partij.soort == "vo-school":
        return feiten.brin_vo in partij.brins
    if partij.soort == "mbo-instelling":
        return aanmelding_at_partij
    regios = {int(code) for code in partij.rmc_regios}
    if partij.soort == "gemeente":
        # its own residents, and as RMC function the residents of its region(s) (not via the school)
        return feiten.gemeentecode in partij.gemeentecodes or _regio_number(feiten.woon_rmc_regio) in regios
    if partij.soort == "regionaal-systeem":
        leerling_regios = {_regio_number(feiten.vo_rmc_regio), _regio_number(feiten.woon_rmc_regio)}
        served_school = feiten.brin_vo in partij.brins
        return bool(regios & leerling_regios) or served_school or aanmelding_at_partij
    return False  # leverancier


def _check_content(push, feiten):
    """Independent restatement of what a push may carry, contact details included (issue 15, item 5)."""
    beeld, partij = push.beeld, push.partij
    school = [("latendeVoSchool", feiten.brin_vo)] if feiten.brin_vo else []
    instellingen = [
        ("ontvangendeMboInstelling", b) for b in dict.fromkeys(a.brin_mbo for a in feiten.aanmeldingen)
    ]
    contacten = [(str(c.rol), c.brin) for c in beeld.contacten]
    if not partij.contactgegevens:
        # Not registered for contact details: none at all, whatever its role.
        school = instellingen = []
    via_instelling = partij.soort == "mbo-instelling" or (
        partij.soort == "regionaal-systeem"
        and feiten.brin_vo not in partij.brins  # a VO school it serves counts as its own region (flow d)
        and not {int(r) for r in partij.rmc_regios}
        & {_regio_number(feiten.vo_rmc_regio), _regio_number(feiten.woon_rmc_regio)}
    )
    if via_instelling:
        assert beeld.brin_vo is None and beeld.gemeentecode is None
        assert all(a.brin_mbo in partij.brins for a in beeld.aanmeldingen)
        # Only the school's contact details, never its BRIN, never another institution's.
        assert contacten == school
        assert not any(c.show_brin for c in beeld.contacten)
    elif partij.soort == "vo-school":
        assert contacten == instellingen
    elif partij.soort == "gemeente":
        assert contacten == school + instellingen
    else:
        assert contacten == []
    if partij.soort != "gemeente":
        assert beeld.gemeentecode is None


@settings(max_examples=300, deadline=None)
@given(partijen(), leerlingen())
def test_ontvangers_are_exactly_the_partijen_in_scope(partij_list, feiten):
    pushes = receivers(feiten, partij_list)
    received = receiving_partijen(pushes)
    expected = list(dict.fromkeys(p for p in partij_list if oracle_in_scope(p, feiten)))
    assert received == expected
    for push in pushes:
        _check_content(push, feiten)


@settings(max_examples=300, deadline=None)
@given(partijen(), leerlingen(), leerlingen())
def test_with_previous_only_in_scope_and_only_changed(partij_list, before, after):
    pushes = receivers(after, partij_list, previous=before)
    for push in pushes:
        assert oracle_in_scope(push.partij, after)
        _check_content(push, after)
    received = set(receiving_partijen(pushes))
    for partij in partij_list:
        if not oracle_in_scope(partij, after):
            assert partij not in received  # lost or never had sight: nothing, not even a notice
        elif not oracle_in_scope(partij, before):
            assert partij in received  # a party that newly sees the pupil is never forgotten
        else:
            changed = beeld_for(partij, before) != beeld_for(partij, after)
            assert (partij in received) == changed
