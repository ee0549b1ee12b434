"""What an ODS ``epraccur`` row is: its country and its setting (pure).

The ODS file lists every *prescribing cost centre*, not only English GP practices: Welsh
practices and health-board services, the Crown Dependencies (Isle of Man, Jersey, Guernsey,
Alderney), walk-in centres, hospital services, prisons and more. Every row is loaded and
classified; only rows classified ``gp_practice`` count as known GP practices, and only English
ones belong to the English sub-ICB / ICB hierarchy.

Country, from the row's geography columns (first match wins):
- High Level Health Geography ``YAC`` Isle of Man, ``YAD`` Jersey, ``YAE`` Guernsey,
  ``YAF`` Alderney; codes beginning ``JER``/``GUE``/``ALD`` likewise;
- National Grouping ``W00``, High Level Health Geography ``Q99`` or a commissioner ``7A*``
  (the Welsh health boards): Wales;
- otherwise England.

Setting: in the letter-status layout the Prescribing Setting number (4 = GP practice); in the
word-status layout the role codes of column 26 (``RO76`` = GP practice; several codes are
separated by ``|``). Numbers are grouped as in ``SETTING_OF_PRESCRIBING_CODE``.
"""

from __future__ import annotations

from enum import StrEnum


class Country(StrEnum):
    """Where a row of the ODS file is."""

    ENGLAND = "england"
    WALES = "wales"
    ISLE_OF_MAN = "isle_of_man"
    JERSEY = "jersey"
    GUERNSEY = "guernsey"
    ALDERNEY = "alderney"


class Setting(StrEnum):
    """What kind of prescribing cost centre a row is."""

    GP_PRACTICE = "gp_practice"
    WALK_IN_OR_OUT_OF_HOURS = "walk_in_or_out_of_hours"
    HOSPITAL = "hospital"
    COMMUNITY = "community"
    URGENT_CARE = "urgent_care"
    JUSTICE = "justice"  # prisons, young offender institutions, custody, courts...
    OTHER = "other"
    UNKNOWN = "unknown"  # no setting given


GP_PRACTICE_ROLE = "RO76"

# Prescribing Setting numbers of the letter-status layout (ODS documentation of epraccur).
PRESCRIBING_SETTINGS: dict[int, str] = {
    0: "Other",
    1: "WIC Practice",
    2: "OOH Practice",
    3: "WIC + OOH Practice",
    4: "GP Practice",
    8: "Public Health Service",
    9: "Community Health Service",
    10: "Hospital Service",
    11: "Optometry Service",
    12: "Urgent & Emergency Care",
    13: "Hospice",
    14: "Care Home / Nursing Home",
    15: "Border Force",
    16: "Young Offender Institution",
    17: "Secure Training Centre",
    18: "Secure Children's Home",
    19: "Immigration Removal Centre",
    20: "Court",
    21: "Police Custody",
    22: "Sexual Assault Referral Centre (SARC)",
    24: "Other - Justice Estate",
    25: "Prison",
}

SETTING_OF_PRESCRIBING_CODE: dict[int, Setting] = {
    4: Setting.GP_PRACTICE,
    1: Setting.WALK_IN_OR_OUT_OF_HOURS,
    2: Setting.WALK_IN_OR_OUT_OF_HOURS,
    3: Setting.WALK_IN_OR_OUT_OF_HOURS,
    10: Setting.HOSPITAL,
    8: Setting.COMMUNITY,
    9: Setting.COMMUNITY,
    11: Setting.COMMUNITY,
    13: Setting.COMMUNITY,
    14: Setting.COMMUNITY,
    12: Setting.URGENT_CARE,
    **{code: Setting.JUSTICE for code in (15, 16, 17, 18, 19, 20, 21, 22, 24, 25)},
}

_CROWN_DEPENDENCY_GEOGRAPHY = {
    "YAC": Country.ISLE_OF_MAN,
    "YAD": Country.JERSEY,
    "YAE": Country.GUERNSEY,
    "YAF": Country.ALDERNEY,
}
_CROWN_DEPENDENCY_PREFIX = {
    "JER": Country.JERSEY,
    "GUE": Country.GUERNSEY,
    "ALD": Country.ALDERNEY,
}


def country_of(
    code: str,
    national_grouping: str | None,
    high_level_health_geography: str | None,
    commissioner_code: str | None,
) -> Country:
    """The country of an ODS row (rules in the module docstring)."""
    dependency = _CROWN_DEPENDENCY_GEOGRAPHY.get(high_level_health_geography or "")
    if dependency is None:
        dependency = _CROWN_DEPENDENCY_PREFIX.get(code[:3])
    if dependency is not None:
        return dependency
    if (
        national_grouping == "W00"
        or high_level_health_geography == "Q99"
        or (commissioner_code or "").startswith("7A")
    ):
        return Country.WALES
    return Country.ENGLAND


def setting_of_prescribing_code(code: int | None) -> Setting:
    """The setting of a Prescribing Setting number (letter-status layout)."""
    if code is None:
        return Setting.UNKNOWN
    return SETTING_OF_PRESCRIBING_CODE.get(code, Setting.OTHER)


def setting_of_roles(role_codes: str | None) -> Setting:
    """The setting of a ``|``-separated list of ODS role codes (word-status layout)."""
    if not role_codes:
        return Setting.UNKNOWN
    roles = {r.strip().upper() for r in role_codes.split("|")}
    return Setting.GP_PRACTICE if GP_PRACTICE_ROLE in roles else Setting.OTHER
