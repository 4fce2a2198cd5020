"""Route53 geolocation codes: continents, ISO 3166-1 alpha-2 countries and the default."""

from __future__ import annotations

from dataclasses import dataclass

CONTINENTS = frozenset({"AF", "AN", "AS", "EU", "NA", "OC", "SA"})
_ISO_3166_ALPHA2 = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_ISO_3166_ALPHA2.split())
DEFAULT = "default"


@dataclass(frozen=True)
class Location:
    """One geolocation record's match: a continent, a country, or everything else (default)."""

    continent: str | None = None
    country: str | None = None

    @property
    def is_default(self) -> bool:
        return self.continent is None and self.country is None

    @property
    def slug(self) -> str:
        """Stable, lowercase text for logical names and set identifiers."""
        if self.continent:
            return f"continent-{self.continent.lower()}"
        if self.country:
            return f"country-{self.country.lower()}"
        return DEFAULT


def parse_location(code: str) -> Location:
    """``EU`` (a continent wins a two-letter clash), ``country:NA``, ``continent:AS``, ``DE``, ``default``."""
    if code == DEFAULT:
        return Location()
    kind, _, value = code.rpartition(":")
    if kind not in ("", "continent", "country"):
        raise ValueError(f"{code!r}: the prefix must be 'continent:' or 'country:'")
    if kind in ("", "continent") and value in CONTINENTS:
        return Location(continent=value)
    if kind in ("", "country") and value in COUNTRIES:
        return Location(country=value)
    raise ValueError(
        f"{code!r} is not a Route53 geolocation code (continents {', '.join(sorted(CONTINENTS))}; "
        "ISO 3166-1 alpha-2 countries such as DE; 'default')"
    )
