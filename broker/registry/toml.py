"""Reading the party registry from a TOML file.

Format (one ``[[partij]]`` table per party, ``[[partij.mandaat]]`` tables for its mandates)::

    [[partij]]
    oin = "0000000700099XA00000"
    soort = "vo-school"
    naam = "Scholengemeenschap De Demo (FICTIEF)"
    brins = ["99XA"]
    endpoint = "https://las.example/vva"   # optional
    contact_email = "vva@demo.example"      # optional, vo-school/mbo-instelling: contact for this exchange
    contact_telefoon = "020-1234567"        # optional, overrides DUO's phone number
    contact_internetadres = "https://www.demo.example"  # optional, overrides DUO's internet address
    contactgegevens = true                  # optional (default false): its software accepts the
                                            # contactgegevens element in answers and pushes
    procesfeiten = true                     # optional (default false): its software accepts the intake,
                                            # onderwijsovereenkomstDatum and examenresultaat elements
    [[partij.mandaat]]
    certificaat_oin = "00000099000000000042"
    geldig_van = 2026-08-01                # optional, TOML local date
    geldig_tot = 2027-07-31                # optional
    acties = ["vo/opvragenStatus"]         # optional: services ("vo") or operations; none = all

Optional lists per party: ``brins``, ``gemeentecodes``, ``rmc_regios`` (strings). Unknown keys and
wrong types are errors, so a typo never passes silently as "no scope". What they mean per soort:

* ``brins`` — a school or institution: its own BRINs; a regionaal-systeem: the BRINs it **serves**, VO
  schools whose potential mbo-gangers it passes on (``aanleverenLeerlingen`` on the regio service; a
  record for any other BRIN gets DK0002) and MBO institutions whose registrations it delivers;
* ``gemeentecodes`` — a gemeente: the gemeenten whose residents it sees;
* ``rmc_regios`` — a regionaal-systeem: the RMC regions whose pupils it sees; a gemeente: the regions it
  is the RMC function (contact gemeente) of, so it sees the residents of every gemeente of the region.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from broker.registry.repository import PartijRegister
from broker.registry.validation import MandaatInvoer, PartijFout, PartijInvoer, controleer
from broker.toml_file import TomlFileError, read_toml

_TEKST_SLEUTELS = (
    "oin",
    "soort",
    "naam",
    "endpoint",
    "contact_email",
    "contact_telefoon",
    "contact_internetadres",
)
_LIJST_SLEUTELS = ("brins", "gemeentecodes", "rmc_regios")
_VERPLICHT = ("oin", "soort", "naam")
_PARTIJ_SLEUTELS = frozenset(
    _TEKST_SLEUTELS + _LIJST_SLEUTELS + ("mandaat", "contactgegevens", "procesfeiten")
)
_MANDAAT_SLEUTELS = frozenset({"certificaat_oin", "geldig_van", "geldig_tot", "acties"})


def lees_partijen(pad: str | os.PathLike[str], *, productie: bool = False) -> list[PartijInvoer]:
    """Read and check every party in the TOML file ``pad``.

    Input: path of a TOML file in the format of this module's docstring; ``productie`` as for
    ``controleer`` (test OINs refused). Output: list of PartijInvoer in file order, each in canonical form
    (``broker.registry.validation.controleer``).
    Raises ``PartijFout`` naming the file (and the party as "party #n", counting from 1, with its OIN when
    known) when the file is missing or not TOML, a key is unknown or missing, a value has the wrong type,
    a party breaks a registry rule, or an OIN occurs twice.
    """
    bestand = Path(pad)
    ruw = _lees_toml(bestand)
    onbekend = set(ruw) - {"partij"}
    if onbekend:
        raise PartijFout(
            f"{bestand}: unknown top-level key(s): {', '.join(sorted(onbekend))}; expected [[partij]]"
        )
    tabellen = ruw.get("partij", [])
    if not isinstance(tabellen, list):
        raise PartijFout(f"{bestand}: 'partij' must be an array of tables ([[partij]])")
    partijen = [_partij(bestand, nummer, tabel, productie) for nummer, tabel in enumerate(tabellen, start=1)]
    _eis_unieke_oins(bestand, partijen)
    return partijen


def laad_partijen(
    session: Session, pad: str | os.PathLike[str], vervang: bool = True, *, productie: bool = False
) -> int:
    """Load every party in ``pad`` into the registry, all or nothing.

    Input: a session (its transaction is the one transaction of the load; the caller commits), the file,
    ``vervang`` (replace parties that exist; when False an existing party is an error), ``productie`` as for
    ``controleer``. Output: the number of parties loaded.
    Raises ``PartijFout`` (see ``lees_partijen``; also when ``vervang`` is False and a party exists).
    Every check runs before the first write, so a refused file leaves the database untouched even if the
    caller went on to commit; a database error half-way leaves the rollback to the caller, which
    ``with sessions.begin():`` does.
    """
    partijen = lees_partijen(pad, productie=productie)
    register = PartijRegister(session, productie=productie)
    if not vervang:
        bestaand = [p.oin for p in partijen if register.bestaat(p.oin)]
        if bestaand:
            raise PartijFout(
                f"{pad}: already registered (load with replace to overwrite): {', '.join(bestaand)}"
            )
    for partij in partijen:
        register.voeg_toe(partij, vervang=vervang)
    return len(partijen)


def _lees_toml(bestand: Path) -> dict[str, Any]:
    try:
        return read_toml(bestand)
    except TomlFileError as fout:
        raise PartijFout(str(fout)) from None


def _partij(bestand: Path, nummer: int, tabel: object, productie: bool) -> PartijInvoer:
    """One [[partij]] table as a checked PartijInvoer; errors name the file, the number and the OIN."""
    plaats = f"{bestand}: party #{nummer}"
    if not isinstance(tabel, dict):
        raise PartijFout(f"{plaats}: must be a table ([[partij]])")
    if isinstance(tabel.get("oin"), str):
        plaats += f" ({tabel['oin']})"
    try:
        invoer = _als_invoer(tabel)
        return controleer(invoer, productie=productie)
    except PartijFout as e:
        raise PartijFout(f"{plaats}: {e.reden}") from None


def _als_invoer(tabel: dict[str, Any]) -> PartijInvoer:
    """Map a [[partij]] table onto PartijInvoer, checking keys and types only (values: ``controleer``)."""
    onbekend = set(tabel) - _PARTIJ_SLEUTELS
    if onbekend:
        raise PartijFout(f"unknown key(s): {', '.join(sorted(onbekend))}")
    ontbrekend = [sleutel for sleutel in _VERPLICHT if sleutel not in tabel]
    if ontbrekend:
        raise PartijFout(f"missing key(s): {', '.join(ontbrekend)}")
    for sleutel in _TEKST_SLEUTELS:
        if sleutel in tabel and not isinstance(tabel[sleutel], str):
            raise PartijFout(f"{sleutel} must be a string")
    if not isinstance(tabel.get("contactgegevens", False), bool):
        raise PartijFout("contactgegevens must be true or false")
    if not isinstance(tabel.get("procesfeiten", False), bool):
        raise PartijFout("procesfeiten must be true or false")
    lijsten = {sleutel: _tekstlijst(tabel, sleutel) for sleutel in _LIJST_SLEUTELS}
    mandaten = tabel.get("mandaat", [])
    if not isinstance(mandaten, list):
        raise PartijFout("mandaat must be an array of tables ([[partij.mandaat]])")
    return PartijInvoer(
        oin=tabel["oin"],
        soort=tabel["soort"],
        naam=tabel["naam"],
        endpoint=tabel.get("endpoint"),
        contact_email=tabel.get("contact_email"),
        contact_telefoon=tabel.get("contact_telefoon"),
        contact_internetadres=tabel.get("contact_internetadres"),
        contactgegevens=tabel.get("contactgegevens", False),
        procesfeiten=tabel.get("procesfeiten", False),
        mandaten=tuple(_mandaat(n, m) for n, m in enumerate(mandaten, start=1)),
        **lijsten,
    )


def _tekstlijst(tabel: dict[str, Any], sleutel: str) -> tuple[str, ...]:
    waarde = tabel.get(sleutel, [])
    if not isinstance(waarde, list) or not all(isinstance(w, str) for w in waarde):
        # Codes are strings: 0363 as a TOML integer would lose its leading zero.
        raise PartijFout(f'{sleutel} must be a list of strings, e.g. {sleutel} = ["..."]')
    return tuple(waarde)


def _mandaat(nummer: int, tabel: object) -> MandaatInvoer:
    if not isinstance(tabel, dict):
        raise PartijFout(f"mandate #{nummer}: must be a table ([[partij.mandaat]])")
    onbekend = set(tabel) - _MANDAAT_SLEUTELS
    if onbekend:
        raise PartijFout(f"mandate #{nummer}: unknown key(s): {', '.join(sorted(onbekend))}")
    if not isinstance(tabel.get("certificaat_oin"), str):
        raise PartijFout(f"mandate #{nummer}: certificaat_oin is missing or not a string")
    acties = tabel.get("acties", [])
    if not isinstance(acties, list) or not all(isinstance(a, str) for a in acties):
        raise PartijFout(
            f'mandate #{nummer}: acties must be a list of strings like "vo" or "vo/opvragenStatus"'
        )
    return MandaatInvoer(
        certificaat_oin=tabel["certificaat_oin"],
        geldig_van=_datum(nummer, tabel, "geldig_van"),
        geldig_tot=_datum(nummer, tabel, "geldig_tot"),
        acties=tuple(acties),
    )


def _datum(nummer: int, tabel: dict[str, Any], sleutel: str) -> date | None:
    waarde = tabel.get(sleutel)
    # TOML gives a datetime for 2026-08-01T00:00:00; a mandate is valid per day, so only a date will do.
    if waarde is None or (isinstance(waarde, date) and not isinstance(waarde, datetime)):
        return waarde
    raise PartijFout(f"mandate #{nummer}: {sleutel} must be a TOML date like 2026-08-01 (no quotes, no time)")


def _eis_unieke_oins(bestand: Path, partijen: list[PartijInvoer]) -> None:
    # With replace, a second entry for the same OIN would silently overwrite the first.
    gezien: dict[str, int] = {}
    for nummer, partij in enumerate(partijen, start=1):
        if partij.oin in gezien:
            raise PartijFout(
                f"{bestand}: party #{nummer} ({partij.oin}): same OIN as party #{gezien[partij.oin]}"
            )
        gezien[partij.oin] = nummer
