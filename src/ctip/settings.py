"""The one settings object. Created once by an adapter (CLI callback, ``create_app``) and passed in.

Nothing reads the environment at import time. Environment variables use the ``CTIP_`` prefix:
``CTIP_HOME`` (all state: database file, keys), ``CTIP_DATABASE_URL`` (overrides the SQLite file,
e.g. ``postgresql+psycopg://user@host/db``), ``CTIP_KEY_FILE`` / ``CTIP_PSEUDONYM_KEY_FILE``
(override key locations), ``CTIP_SEAL_KEY`` / ``CTIP_PSEUDONYM_KEY`` (keys given directly, base64,
for servers whose secret store injects them), ``CTIP_COUNTRY`` (the country the report is about;
without it the report's title names none).
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("ctip", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CTIP_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Directory holding all state.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file ctip.db under home."
    )
    key_file: Path | None = Field(
        default=None, description="Sealing key file; default home/keys/seal.key"
    )
    pseudonym_key_file: Path | None = Field(
        default=None, description="Pseudonym (HMAC) key file; default home/keys/pseudonym.key"
    )
    seal_key: str | None = Field(
        default=None, description="Sealing key ring given directly (base64 JSON)."
    )
    pseudonym_key: str | None = Field(
        default=None, description="Pseudonym key given directly (base64)."
    )
    linkage_key: str | None = Field(
        default=None, description="Shared PPRL linkage secret given directly (base64), instead "
        "of `ctip link encode --key-file`.",
    )
    batch_size: int = Field(default=5000, ge=1, description="Rows per import batch.")
    import_workers: int | None = Field(
        default=None, ge=0,
        description="Processes that map and seal the rows of an import (0 = one per CPU, "
        "1 = none); default: one per CPU for files of 20,000 rows or more.",
    )
    suppression_threshold: int = Field(default=5, ge=1, description="Smallest publishable cell.")
    country: str | None = Field(
        default=None, description="Country the report is about (ISO 3166 code or English "
        "name): its title, SDG 16.2.2 rates and GLOTIP context. Default: a title naming no "
        "country (the records may come from several).",
    )
    estimate_method: str = Field(
        default="stepwise", description="The estimation method the office chose for the "
        "report's headline (stepwise, aic, bic, bayesthresh, lcmcr); the report shows it "
        "beside the range of all of them.",
    )
    k_anonymity: int = Field(default=11, ge=2, description="k for released microdata.")
    session_timeout_minutes: int = Field(default=30, ge=1)
    pool_size: int = Field(
        default=15, ge=1, description="PostgreSQL connections kept open per process."
    )
    pool_overflow: int = Field(
        default=5, ge=0, description="PostgreSQL connections opened beyond pool_size under bursts."
    )
    evidence_dir: Path | None = Field(
        default=None, description="Encrypted evidence blobs; default home/evidence"
    )
    tsa: str | None = Field(
        default=None, description="RFC 3161 time-stamp authority: an http(s) URL, or 'local' "
        "for the local OpenSSL TSA made by `ctip evidence setup --local-tsa` (tests, demo)",
    )
    tsa_ca_file: Path | None = Field(
        default=None, description="The TSA's root certificate (PEM); default home/tsa/ca.pem"
    )
    tsa_cert_file: Path | None = Field(
        default=None, description="The TSA's signing certificate (PEM); default home/tsa/tsa.pem"
    )
    notary_key_file: Path | None = Field(
        default=None, description="Ed25519 key signing checkpoints and bundles; default "
        "home/keys/notary.key",
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'ctip.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.home / "keys" / "seal.key"

    @property
    def resolved_pseudonym_key_file(self) -> Path:
        return self.pseudonym_key_file or self.home / "keys" / "pseudonym.key"

    @property
    def resolved_evidence_dir(self) -> Path:
        return self.evidence_dir or self.home / "evidence"

    @property
    def resolved_tsa_dir(self) -> Path:
        return self.home / "tsa"

    @property
    def resolved_tsa_ca_file(self) -> Path:
        return self.tsa_ca_file or self.resolved_tsa_dir / "ca.pem"

    @property
    def resolved_tsa_cert_file(self) -> Path:
        return self.tsa_cert_file or self.resolved_tsa_dir / "tsa.pem"

    @property
    def resolved_notary_key_file(self) -> Path:
        return self.notary_key_file or self.home / "keys" / "notary.key"
