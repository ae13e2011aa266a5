"""Screening against a real store (SQLite and PostgreSQL): sealed at rest, idempotent, rejects
kept, queued with reasons that carry spans and no identifier, agency-scoped, audited; decisions
retrain the model; exports; the F20-06 pseudonym join; key rotation covers the new columns."""

from __future__ import annotations

import csv
import json
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctip.ads.synthetic import rows
from ctip.domain.access import Principal, Role
from ctip.errors import NotFoundError, PermissionDeniedError, ValidationError
from ctip.services.ads import AdScreening, phone_pseudonym
from ctip.services.ads_export import export, train_file
from ctip.storage import ads as db
from ctip.storage.audit import AuditLog
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.rotation import SEALED
from ctip.storage.sealing import Pseudonymiser, Sealer

INV_A = Principal("u1", "ines", Role.INVESTIGATOR, "A")
INV_B = Principal("u2", "bo", Role.INVESTIGATOR, "B")
ANALYST_A = Principal("u3", "ana", Role.ANALYST, "A")
PHONE = "+855 96 777 1234"


def _write(path: Path, data: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    return path


@pytest.fixture
def ads_file(tmp_path: Path) -> Path:
    data = list(rows(300, seed=11))
    data[0].update(contact=f"WhatsApp {PHONE}", title="Typing job", company="",
                   location="Bavet, Cambodia")
    data[1].update(contact=f"Call {PHONE}", title="Game Tester", company="Lucky Star",
                   location="Poipet, Cambodia")
    data[2] = dict(data[2], title="", body="", label="1")  # not an ad: rejected, kept
    data[3] = dict(data[3], label="perhaps")
    return _write(tmp_path / "ads.csv", data)


@pytest.fixture
def screening(database_url: str):
    engine = make_engine(database_url)
    migrate(engine)
    yield AdScreening(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)),
                      AuditLog())
    engine.dispose()


def _all_text(engine: sa.Engine) -> str:
    """Every value of every ad table, as text (sealed columns are bytes and stay opaque)."""
    out = []
    with engine.connect() as conn:
        for table in (db.ads, db.ad_identifiers, db.ad_rejects, db.ad_batches, db.ad_clusters,
                      db.ad_models):
            for row in conn.execute(sa.select(table)):
                out += [str(v) for v in row if not isinstance(v, bytes | memoryview)]
        out += [r.reasons_json for r in conn.execute(sa.text("SELECT reasons_json FROM "
                                                             "review_items"))]
        out += [r.details for r in conn.execute(sa.text("SELECT details FROM audit_log"))]
    return "\n".join(out)


def test_screen_seals_dedupes_keeps_rejects_and_queues(screening, ads_file) -> None:
    first = screening.screen(ads_file, agency="A", actor="tester")
    assert first.read == 300 == first.accepted + first.rejected
    assert first.rejected == 2 and [r for r, _ in first.rejects] == [4, 5]
    assert "perhaps" in first.rejects[1][1]
    assert first.new == first.accepted and first.queued > 0
    again = screening.screen(ads_file, agency="A", actor="tester")
    assert (again.new, again.duplicates, again.queued) == (0, again.accepted, 0)
    stored = _all_text(screening.engine)
    assert "96 777 1234" not in stored and "967771234" not in stored
    assert "Lucky Star" not in stored  # company names are sealed too
    items = screening.review(INV_A, limit=500)
    assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)
    reasons = [r for i in items for r in i.item.reasons]
    assert {"start", "end"} <= set(next(r for r in reasons if r.code.startswith("R")).figures)


def test_shared_phone_clusters_and_fires_r14(screening, ads_file) -> None:
    screening.screen(ads_file, agency="A", actor="tester")
    with screening.engine.connect() as conn:
        ads = db.all_ads(conn, "A")
    pair = [a for a in ads if a.source_row in (2, 3)]
    assert pair[0].cluster_id and pair[0].cluster_id == pair[1].cluster_id
    for a in pair:
        assert "R14" in {h["code"] for h in json.loads(a.network_json)}
    views = screening.clusters(INV_A, limit=200)
    mine = next(c for c in views if c.cluster_id == pair[0].cluster_id)
    assert "Lucky Star" in mine.companies and mine.shared.get("phone", 0) >= 1


def test_review_is_agency_scoped_and_shows_labels_not_phones(screening, ads_file) -> None:
    screening.screen(ads_file, agency="A", actor="tester")
    items = screening.review(INV_A, limit=500)
    target = next(i for i in items if i.title == "Typing job")
    view = screening.ad(INV_A, target.item.item_id)
    shown = "".join(p.text for p in view.pieces)
    assert "777 1234" not in shown and "[phone \u00b7" in shown
    assert any("R07" in p.codes or "R14" in p.codes for p in view.pieces if p.identifier)
    assert screening.review(INV_B) == []
    with pytest.raises(NotFoundError):
        screening.ad(INV_B, target.item.item_id)
    with pytest.raises(PermissionDeniedError):
        screening.review(ANALYST_A)


def test_decisions_retrain_and_the_next_screen_uses_the_model(screening, ads_file,
                                                               tmp_path) -> None:
    screening.screen(ads_file, agency="A", actor="tester")
    items = screening.review(INV_A, limit=500, open_only=True)
    with pytest.raises(ValidationError, match="reason"):
        screening.decide(INV_A, items[0].item.item_id, "escalate")
    for n, item in enumerate(items[:12]):
        screening.decide(INV_A, item.item.item_id, "risky" if n < 6 else "fine")
    version = screening.retrain(INV_A)
    (model,) = screening.models("A")
    assert model["model_version"] == version and model["active"] and model["ads"] == 12
    new = _write(tmp_path / "more.csv", list(rows(40, seed=99)))
    result = screening.screen(new, agency="A", actor="tester")
    assert result.model_version == version and result.score_kind == "model"
    with screening.engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.text("SELECT action FROM audit_log"))]
    assert {"ads.screen", "ads.cluster", "ads.read", "ads.model", "review.decide"} <= set(actions)


def test_train_on_a_labelled_file_stores_grouped_cv(screening, tmp_path) -> None:
    labelled = _write(tmp_path / "lab.csv", list(rows(400, seed=3)))
    version, metrics = train_file(screening, labelled, agency="A", actor="tester")
    assert 0 <= metrics["average_precision"] <= 1 and metrics["groups"] > 10
    assert screening.models("A")[0]["metrics"]["precision_at_base_rate"] == \
        metrics["precision_at_base_rate"]
    assert screening.active_model("A")[0] == version
    assert screening.active_model("B") is None


def test_export_csv_and_ftm_pseudonyms_unless_revealed(screening, ads_file, tmp_path) -> None:
    screening.screen(ads_file, agency="A", actor="tester")
    items = screening.review(INV_A, limit=500)
    target = next(i for i in items if i.title == "Typing job")
    screening.decide(INV_A, target.item.item_id, "risky")
    out = tmp_path / "out.csv"
    assert export(screening, INV_A, out) == 1
    text = out.read_text(encoding="utf-8-sig")
    assert "Typing job" in text and "[phone" in text
    assert "777 1234" not in text and "967771234" not in text
    ftm = tmp_path / "out.ftm"
    export(screening, INV_A, ftm, fmt="ftm", undecided=True)
    entities = [json.loads(line) for line in ftm.read_text().splitlines()]
    schemata = {e["schema"] for e in entities}
    assert {"Document", "Documentation", "UnknownLink"} <= schemata
    assert schemata & {"Person", "Organization"}
    topics = {t for e in entities for t in e["properties"].get("topics", [])}
    assert topics == {"crime.fraud", "crime.traffick.human"}  # only the decided ad has them
    assert "777 1234" not in ftm.read_text() and "967771234" not in ftm.read_text()
    revealed = tmp_path / "revealed.ftm"
    with pytest.raises(ValidationError):
        export(screening, INV_A, revealed, fmt="ftm", reveal_reason=" ")
    export(screening, INV_A, revealed, fmt="ftm", reveal_reason="referral to the police unit")
    assert "+85596777" in revealed.read_text()


def test_phone_pseudonym_joins_a_bank_file_phone_to_the_ads(screening, ads_file) -> None:
    screening.screen(ads_file, agency="A", actor="tester")
    pseudo = phone_pseudonym(screening.pseudonymiser, "+855-96-777-1234")
    found = screening.ads_sharing("A", [pseudo, "nothing"])
    assert len(found[pseudo]) == 2 and "nothing" not in found
    assert phone_pseudonym(screening.pseudonymiser, "hello") is None
    kinds = {k for _, k, _ in screening.identifier_pseudonyms("A")}
    assert "phone" in kinds


def test_sealed_columns_are_registered_for_rotation() -> None:
    assert {"ads.content_sealed", "ad_identifiers.value_sealed", "ad_rejects.raw_sealed",
            "ad_models.model_sealed"} <= set(SEALED)


def test_a_missing_file_is_a_clear_error(screening, tmp_path) -> None:
    from ctip.errors import InputFileError

    with pytest.raises(InputFileError, match="no such file"):
        screening.screen(tmp_path / "nope.csv", agency="A", actor="t")
    (tmp_path / "pages").mkdir()
    with pytest.raises(InputFileError, match="no .html pages"):
        screening.screen(tmp_path / "pages", agency="A", actor="t")


def test_workers_give_the_same_result_as_one_process(tmp_path) -> None:
    data = list(rows(700, seed=5))
    data[10] = dict(data[10], title="", body="")
    data[20] = dict(data[3])  # a duplicate inside the file
    path = _write(tmp_path / "ads.csv", data)
    outcomes = []
    for workers in (1, 2):
        engine = make_engine(f"sqlite:///{tmp_path / f'w{workers}.db'}")
        migrate(engine)
        svc = AdScreening(engine, Sealer(KeyRing.generate()), Pseudonymiser(b"k" * 32))
        result = svc.screen(path, agency="A", actor="t", workers=workers, batch=150)
        with engine.connect() as conn:
            stored = sorted((r.source_row, r.hits_json, r.network_json, r.score)
                            for r in db.all_ads(conn, "A"))
        outcomes.append(((result.read, result.accepted, result.rejected, result.new,
                          result.duplicates, result.queued, result.clusters), stored))
        engine.dispose()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][:5] == (700, 699, 1, 698, 1)
