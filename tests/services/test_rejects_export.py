"""`ctip rejects export` writes no raw content without --with-identity, whatever the reject.

The rows that leaked before: a line that is not valid JSON (kept whole as raw text), an
unbalanced quote that folds the following rows (names and all) into one cell, a row whose
columns are shifted so a name sits under ``sex`` and is quoted in the reason. Each carries a
marker name; the export's bytes (CSV, and every part of an XLSX) must hold none of them, and
the file is the owner's only (0600), even when it existed before with looser permissions.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from ctip.cli import app
from ctip.errors import PermissionDeniedError
from ctip.services.home import init_home
from ctip.services.importing import export_rejects, import_file
from ctip.settings import Settings
from ctip.storage.repository import CaseStore
from ctip.storage.tables import audit_log

MARKERS = ("Zorbanella", "Quixtrelmo", "Vantablurg", "Ombrivesse", "1977-03-14")
HEADER = "source_record_id,agency,sex,age_at_identification,given_name,family_name,narrative"


def _files(folder: Path) -> list[Path]:
    broken_json = folder / "broken.jsonl"
    broken_json.write_text(
        '{"source_record_id": "J1", "agency": "a", "sex": "female"}\n'
        '{"source_record_id": "J2", "given_name": "Zorbanella", "date_of_birth": "1977-03-14"\n',
        encoding="utf-8",
    )
    folded = folder / "folded.csv"
    folded.write_text(
        f"{HEADER}\n"
        'F1,a,female,30,Ana,Diaz,"she said\n'
        "F2,a,male,41,Quixtrelmo,Ombrivesse,\n"
        "F3,a,female,22,Vantablurg,Roe,\n",
        encoding="utf-8",
    )
    shifted = folder / "shifted.csv"
    shifted.write_text(
        f"{HEADER}\nS1,a,Zorbanella,30,,,\nS2,a,female,Quixtrelmo,,,\nS3,a,female\n",
        encoding="utf-8",
    )
    return [broken_json, folded, shifted]


@pytest.fixture
def conf(tmp_path: Path, ctip_home: Path) -> Settings:
    settings = Settings(home=ctip_home)
    init_home(settings)
    with CaseStore.open(settings, actor="tester") as store:
        for path in _files(tmp_path):
            report = import_file(store, path)
            assert report.read == report.accepted + report.rejected and report.rejected
    return settings


def _text_of(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return path.read_bytes().decode("utf-8", "replace")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_no_raw_content_without_identity_and_the_file_is_private(
    conf: Settings, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"rejects{suffix}"
    out.write_text("old content", encoding="utf-8")
    out.chmod(0o644)
    count = export_rejects(conf, out)
    assert count >= 5
    text = _text_of(out)
    for marker in MARKERS:
        assert marker not in text, marker
    assert "withheld" in text and "row" in text  # each reject is still there, by file and row
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_with_identity_needs_a_reason_includes_the_content_and_is_audited(
    conf: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "rejects.csv"
    with pytest.raises(PermissionDeniedError):
        export_rejects(conf, out, include_identity=True)
    assert not out.exists()
    export_rejects(conf, out, include_identity=True, reason="repair ticket 2024-117")
    text = _text_of(out)
    assert all(marker in text for marker in MARKERS)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with CaseStore.open(conf) as store, store.engine.connect() as conn:
        details = [
            d for (d,) in conn.execute(
                sa.select(audit_log.c.details).where(audit_log.c.action == "rejects.read")
            )
        ]
    assert any('"with_identity":true' in d and "repair ticket 2024-117" in d for d in details)


def test_cli_export_withholds_by_default(conf: Settings, tmp_path: Path) -> None:
    out = tmp_path / "cli.csv"
    done = CliRunner().invoke(app, ["rejects", "export", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert not any(marker in _text_of(out) for marker in MARKERS)
    refused = CliRunner().invoke(app, ["rejects", "export", "--out", str(out), "--with-identity"])
    assert refused.exit_code != 0
