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

from broker.registry.repository import PartijRegistry
from broker.registry.validation import MandaatInput, PartijError, PartijInput, check_all
from broker.toml_file import TomlFileError, read_toml

_TEXT_KEYS = (
    "oin",
    "soort",
    "naam",
    "endpoint",
    "contact_email",
    "contact_telefoon",
    "contact_internetadres",
)
_LIST_KEYS = ("brins", "gemeentecodes", "rmc_regios")
_REQUIRED = ("oin", "soort", "naam")
_PARTIJ_KEYS = frozenset(
    _TEXT_KEYS + _LIST_KEYS + ("mandaat", "contactgegevens", "procesfeiten")
)
_MANDAAT_KEYS = frozenset({"certificaat_oin", "geldig_van", "geldig_tot", "acties"})


def read_partijen(path: str | os.PathLike[str], *, production: bool = False) -> list[PartijInput]:
    """Read and check every party in the TOML file ``path``.

    Input: path of a TOML file in the format of this module's docstring; ``production`` as for
    ``check_all`` (test OINs refused). Output: list of PartijInput in file order, each in canonical form
    (``broker.registry.validation.check_all``).
    Raises ``PartijError`` naming the file (and the party as "party #n", counting from 1, with its OIN when
    known) when the file is missing or not TOML, a key is unknown or missing, a value has the wrong type,
    a party breaks a registry rule, or an OIN occurs twice.
    """
    toml_path = Path(path)
    raw = _read_toml(toml_path)
    unknown = set(raw) - {"partij"}
    if unknown:
        raise PartijError(
            f"{toml_path}: unknown top-level key(s): {', '.join(sorted(unknown))}; expected [[partij]]"
        )
    tables = raw.get("partij", [])
    if not isinstance(tables, list):
        raise PartijError(f"{toml_path}: 'partij' must be an array of tables ([[partij]])")
    partijen = [_partij(toml_path, index, table, production) for index, table in enumerate(tables, start=1)]
    _require_unique_oins(toml_path, partijen)
    return partijen


def load_partijen(
    session: Session, path: str | os.PathLike[str], replace: bool = True, *, production: bool = False
) -> int:
    """Load every party in ``path`` into the registry, all or nothing.

    Input: a session (its transaction is the one transaction of the load; the caller commits), the file,
    ``replace`` (replace parties that exist; when False an existing party is an error), ``production`` as for
    ``check_all``. Output: the number of parties loaded.
    Raises ``PartijError`` (see ``read_partijen``; also when ``replace`` is False and a party exists).
    Every check runs before the first write, so a refused file leaves the database untouched even if the
    caller went on to commit; a database error half-way leaves the rollback to the caller, which
    ``with sessions.begin():`` does.
    """
    partijen = read_partijen(path, production=production)
    register = PartijRegistry(session, production=production)
    if not replace:
        existing = [p.oin for p in partijen if register.exists(p.oin)]
        if existing:
            raise PartijError(
                f"{path}: already registered (load with replace to overwrite): {', '.join(existing)}"
            )
    for partij in partijen:
        register.add(partij, replace=replace)
    return len(partijen)


def _read_toml(toml_path: Path) -> dict[str, Any]:
    try:
        return read_toml(toml_path)
    except TomlFileError as error:
        raise PartijError(str(error)) from None


def _partij(toml_path: Path, index: int, table: object, production: bool) -> PartijInput:
    """One [[partij]] table as a checked PartijInvoer; errors name the file, the number and the OIN."""
    place = f"{toml_path}: party #{index}"
    if not isinstance(table, dict):
        raise PartijError(f"{place}: must be a table ([[partij]])")
    if isinstance(table.get("oin"), str):
        place += f" ({table['oin']})"
    try:
        input_ = _as_input(table)
        return check_all(input_, production=production)
    except PartijError as e:
        raise PartijError(f"{place}: {e.reason}") from None


def _as_input(table: dict[str, Any]) -> PartijInput:
    """Map a [[partij]] table onto PartijInvoer, checking keys and types only (values: ``check_all``)."""
    unknown = set(table) - _PARTIJ_KEYS
    if unknown:
        raise PartijError(f"unknown key(s): {', '.join(sorted(unknown))}")
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise PartijError(f"missing key(s): {', '.join(missing)}")
    for key in _TEXT_KEYS:
        if key in table and not isinstance(table[key], str):
            raise PartijError(f"{key} must be a string")
    if not isinstance(table.get("contactgegevens", False), bool):
        raise PartijError("contactgegevens must be true or false")
    if not isinstance(table.get("procesfeiten", False), bool):
        raise PartijError("procesfeiten must be true or false")
    lists = {key: _text_list(table, key) for key in _LIST_KEYS}
    mandaten = table.get("mandaat", [])
    if not isinstance(mandaten, list):
        raise PartijError("mandaat must be an array of tables ([[partij.mandaat]])")
    return PartijInput(
        oin=table["oin"],
        soort=table["soort"],
        naam=table["naam"],
        endpoint=table.get("endpoint"),
        contact_email=table.get("contact_email"),
        contact_telefoon=table.get("contact_telefoon"),
        contact_internetadres=table.get("contact_internetadres"),
        contactgegevens=table.get("contactgegevens", False),
        procesfeiten=table.get("procesfeiten", False),
        mandaten=tuple(_mandaat(n, m) for n, m in enumerate(mandaten, start=1)),
        **lists,
    )


def _text_list(table: dict[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        # Codes are strings: 0363 as a TOML integer would lose its leading zero.
        raise PartijError(f'{key} must be a list of strings, e.g. {key} = ["..."]')
    return tuple(value)


def _mandaat(index: int, table: object) -> MandaatInput:
    if not isinstance(table, dict):
        raise PartijError(f"mandate #{index}: must be a table ([[partij.mandaat]])")
    unknown = set(table) - _MANDAAT_KEYS
    if unknown:
        raise PartijError(f"mandate #{index}: unknown key(s): {', '.join(sorted(unknown))}")
    if not isinstance(table.get("certificaat_oin"), str):
        raise PartijError(f"mandate #{index}: certificaat_oin is missing or not a string")
    acties = table.get("acties", [])
    if not isinstance(acties, list) or not all(isinstance(a, str) for a in acties):
        raise PartijError(
            f'mandate #{index}: acties must be a list of strings like "vo" or "vo/opvragenStatus"'
        )
    return MandaatInput(
        certificaat_oin=table["certificaat_oin"],
        geldig_van=_parse_date(index, table, "geldig_van"),
        geldig_tot=_parse_date(index, table, "geldig_tot"),
        acties=tuple(acties),
    )


def _parse_date(index: int, table: dict[str, Any], key: str) -> date | None:
    value = table.get(key)
    # TOML gives a datetime for 2026-08-01T00:00:00; a mandate is valid per day, so only a date will do.
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    raise PartijError(
        f"mandate #{index}: {key} must be a TOML date like 2026-08-01 (no quotes, no time)"
    )


def _require_unique_oins(toml_path: Path, partijen: list[PartijInput]) -> None:
    # With replace, a second entry for the same OIN would silently overwrite the first.
    seen: dict[str, int] = {}
    for index, partij in enumerate(partijen, start=1):
        if partij.oin in seen:
            raise PartijError(
                f"{toml_path}: party #{index} ({partij.oin}): same OIN as party #{seen[partij.oin]}"
            )
        seen[partij.oin] = index
