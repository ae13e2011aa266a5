"""Victim records -> ready-to-insert, sealed victims rows, without touching the database.

Kept apart from ``CaseStore`` so the expensive, per-row part of an import (derived columns, the
keyed content hash, the pseudonym, AES-GCM sealing) can run in worker processes while one
process writes (``services/import_pool.py``); ``CaseStore.add_victims`` uses the same code in
process, so there is one way a row is built.

Each prepared row gets a fresh victim id at once, because the sealed identity's associated data
names the row it belongs to. When the store finds the record already stored with other content,
it keeps the stored id and re-seals the identity under it (``reseal_for``); unchanged records
are dropped, so their fresh ids are never used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ctip.domain.records import VictimRecord
from ctip.storage import codec
from ctip.storage.bulk import new_ids
from ctip.storage.sealing import Pseudonymiser, Sealer

# a victims row: the plain columns (codec), then what only the store knows
VICTIM_COLUMNS: tuple[str, ...] = (*codec.VICTIM_PLAIN_COLUMNS, "victim_id", "content_hash",
                                   "import_batch", "pseudonym", "source_record_hash",
                                   "identity_sealed", "seal_key_id", "created_at", "updated_at")
VICTIM_ID = VICTIM_COLUMNS.index("victim_id")  # positions in a prepared row
_SEALED = VICTIM_COLUMNS.index("identity_sealed")
SEAL_KEY_ID = VICTIM_COLUMNS.index("seal_key_id")


def victim_context(victim_id: str) -> str:
    """The associated data of a victim's sealed identity: the row and field it belongs to."""
    return f"victims/{victim_id}/identity"


class PreparedVictim(NamedTuple):
    """One record ready to store: its key, keyed content hash and the row without its two
    timestamps (``VICTIM_COLUMNS`` minus ``created_at``, ``updated_at``; the writer adds them)."""

    agency: str
    source_record_id: str
    content_hash: str
    row: tuple[Any, ...]

    @property
    def victim_id(self) -> str:
        return str(self.row[VICTIM_ID])


class VictimPreparer:
    """Builds sealed victims rows; holds the keys, so it lives only in ctip's own processes."""

    def __init__(self, sealer: Sealer, pseudonymiser: Pseudonymiser) -> None:
        self.sealer = sealer
        self.pseudonymiser = pseudonymiser

    def prepare(self, records: Sequence[VictimRecord], batch_id: str) -> list[PreparedVictim]:
        """Per row only tuples are built (no dict per row); identities sealed in one pass."""
        if not records:
            return []
        keyed = self.pseudonymiser.keyed_hash
        pseudonym = self.pseudonymiser.pseudonym
        content_bytes, victim_values, identity_json = (
            codec.content_bytes, codec.victim_values, codec.identity_json)
        ids = new_ids(len(records))
        texts = [identity_json(record.identity) for record in records]
        sealed = self.sealer.seal_many(texts, [victim_context(i) for i in ids])
        key_id = self.sealer.active_key_id
        out = []
        for record, text, victim_id, blob in zip(records, texts, ids, sealed, strict=True):
            values = victim_values(record)
            ident = record.identity
            prov_hash = record.provenance.source_record_hash if record.provenance else None
            content_hash = keyed("victim-content", content_bytes(values, text, record.age_band))
            out.append(PreparedVictim(record.agency, record.source_record_id, content_hash,
                                      values + (
                victim_id, content_hash, batch_id,
                pseudonym(ident.given_name, ident.family_name, ident.date_of_birth),
                keyed("row", prov_hash.encode()) if prov_hash else None,
                blob, key_id)))
        return out

    def reseal_for(self, item: PreparedVictim, victim_id: str) -> PreparedVictim:
        """The item under ``victim_id`` (the one already stored, or its own), identity re-sealed
        under the active key so its associated data names that row. Called by the writer inside
        its transaction."""
        row = list(item.row)
        text = self.sealer.open(row[_SEALED], context=victim_context(item.victim_id))
        row[VICTIM_ID] = victim_id
        row[_SEALED] = self.sealer.seal(text, context=victim_context(victim_id))
        row[SEAL_KEY_ID] = self.sealer.active_key_id
        return item._replace(row=tuple(row))
