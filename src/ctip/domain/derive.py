"""Derived fields: age bands, victim groups (women/men/girls/boys), the UNODC roll-up of forms.

Every band is derived from age in years (never stored), so any standard's bands can be produced.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctip.domain.vocabulary import code_list

UNKNOWN = "unknown"

# CTDC "ageBroad" bands (STANDARDS.md section 3.1): (low, high inclusive, label)
CTDC_AGE_BROAD: tuple[tuple[int, int, str], ...] = (
    (0, 8, "0--8"), (9, 17, "9--17"), (18, 20, "18--20"), (21, 23, "21--23"), (24, 26, "24--26"),
    (27, 29, "27--29"), (30, 38, "30--38"), (39, 47, "39--47"), (48, 200, "48+"),
)


def age_group(age: int | None) -> str:
    """GLOTIP / SDG age: '0-17', '18+' or 'unknown'."""
    if age is None:
        return UNKNOWN
    return "0-17" if age < 18 else "18+"


def ctdc_age_broad(age: int | None) -> str:
    if age is None:
        return UNKNOWN
    for low, high, label in CTDC_AGE_BROAD:
        if low <= age <= high:
            return label
    return UNKNOWN


def ctdc_age_broad_range(label: str) -> tuple[int, int] | None:
    """The (low, high) years of a CTDC ageBroad label, or None for an unknown label."""
    for low, high, text in CTDC_AGE_BROAD:
        if text == label:
            return low, high
    return None


def age_group_of_band(band: str | None) -> str:
    """GLOTIP / SDG age group of a band given instead of an age (CTDC ageBroad such as "9--17",
    or a majority status "0-17" / "18+"): '0-17', '18+' or 'unknown' for an unknown band."""
    if band in {"0-17", "18+"}:
        return band
    span = ctdc_age_broad_range(band) if band else None
    if span is None:
        return UNKNOWN
    return "0-17" if span[1] < 18 else "18+"


def victim_group(sex: str, age: int | None) -> str:
    """UNODC's women / men / girls / boys, or 'unknown' when sex or age is not known."""
    return victim_group_of(sex, age_group(age))


def victim_group_of(sex: str, group: str) -> str:
    """``victim_group`` from an age group ('0-17' / '18+' / 'unknown') already known."""
    if group == UNKNOWN or sex not in {"female", "male"}:
        return UNKNOWN
    if sex == "female":
        return "girls" if group == "0-17" else "women"
    return "boys" if group == "0-17" else "men"


@dataclass(frozen=True)
class RollupRule:
    """How fine forms roll up to UNODC's categories for one output.

    ``mixed``: when a victim has sexual exploitation and forced labour, count them as 'mixed'
    (True, GLOTIP reports) or under the first of ``precedence``.
    ``begging_and_criminality_as_labour``: some national laws class forced criminality and
    begging as forced labour; then they roll up to forced_labour.
    """

    mixed: bool = True
    begging_and_criminality_as_labour: bool = False
    precedence: tuple[str, ...] = ("sexual_exploitation", "forced_labour", "forced_criminality",
                                   "begging", "organ_removal", "other")


DEFAULT_ROLLUP = RollupRule()


def unodc_form(form: str, rule: RollupRule = DEFAULT_ROLLUP) -> str:
    """The UNODC category of one fine form under a roll-up rule."""
    if form in {"forced_criminality", "forced_begging"}:
        if rule.begging_and_criminality_as_labour:
            return "forced_labour"
        return "begging" if form == "forced_begging" else "forced_criminality"
    mapped = code_list("exploitation_form").entry(form).get("unodc", "other")
    return str(mapped)


def primary_form(forms: tuple[str, ...] | None, rule: RollupRule = DEFAULT_ROLLUP) -> str:
    """One UNODC category per victim, for single-category tables."""
    if not forms:
        return UNKNOWN
    rolled = {unodc_form(f, rule) for f in forms}
    if rule.mixed and {"sexual_exploitation", "forced_labour"} <= rolled:
        return "mixed"
    for category in rule.precedence:
        if category in rolled:
            return category
    return sorted(rolled)[0]


def is_detected(identification_status: str) -> bool:
    """Whether a status counts as a detected victim (a national setting; default from code list)."""
    return bool(code_list("identification_status").entry(identification_status).get("detected"))
