"""Read-only wrappers that let templates use a service result with attribute access."""

from __future__ import annotations

from typing import Any

from ctip.services.casework import CaseView


class CaseData:
    """The fields of a ``CaseView`` the user may see; a field they may not see reads as None."""

    def __init__(self, view: CaseView) -> None:
        self._data = dict(view.data)
        self.case_id = view.case_id
        self.relation = view.relation
        self.version = view.version
        self.revealable_identity = view.revealable_identity

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)

    @property
    def short_id(self) -> str:
        """The readable case number ("AA-2026-00042"); the first block of the case id only for
        a case the numbering has not reached (none once migration 1310 has run)."""
        return str(self._data.get("case_number") or self.case_id.split("-")[0])
