"""Import profiles: how one kind of agency file maps onto the canonical case record.

``get_profile(name)`` returns one of ``canonical``, ``ctdc``, ``ctdc_vp``, ``htcds``.
"""

from __future__ import annotations

from ctip.errors import ConfigurationError
from ctip.ingest.profiles.base import PROFILE_NAMES, HeaderCheck, Profile
from ctip.ingest.profiles.canonical import CanonicalProfile
from ctip.ingest.profiles.ctdc import CtdcProfile, CtdcVpProfile
from ctip.ingest.profiles.htcds import HtcdsProfile

_PROFILES: dict[str, Profile] = {
    p.name: p for p in (CanonicalProfile(), CtdcProfile(), CtdcVpProfile(), HtcdsProfile())
}
assert tuple(_PROFILES) == PROFILE_NAMES


def get_profile(name: str) -> Profile:
    try:
        return _PROFILES[name.strip().casefold().replace("-", "_")]
    except KeyError:
        raise ConfigurationError(
            f"there is no import profile {name!r}", hint=f"use one of: {', '.join(PROFILE_NAMES)}"
        ) from None


__all__ = ["PROFILE_NAMES", "HeaderCheck", "Profile", "get_profile"]
