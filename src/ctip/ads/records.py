"""The job ad as read from a file: its text sections and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

# The sections of an ad, in the order they are joined into the text a reviewer reads.
SECTIONS = ("title", "company", "location", "salary", "contact", "body")


@dataclass(frozen=True)
class Ad:
    """One ad. ``sections`` maps a section name (``SECTIONS``) to its raw text."""

    source_row: int  # the row (CSV/XLSX), line (JSON Lines) or file number (HTML) a person sees
    sections: dict[str, str]
    source_ref: str | None = None  # the site's or file's own id of the ad (EMSCAD job_id)
    label: int | None = None  # 1 fraudulent/risky, 0 not, None unknown (labelled files only)
    company_profile: str = ""  # EMSCAD: the company's self-description (groups its ads)
    extra: dict[str, str] = field(default_factory=dict)  # profile columns kept for features

    @property
    def company(self) -> str:
        return self.sections.get("company", "")

    @property
    def location(self) -> str:
        return self.sections.get("location", "")


@dataclass(frozen=True)
class RejectedAd:
    """A row that is not an ad, kept with its reasons (counts reconcile: read = accepted +
    rejected). ``raw`` is the row as read; it may hold identifiers and is sealed at rest."""

    source_row: int
    reasons: tuple[str, ...]
    raw: dict[str, str]
