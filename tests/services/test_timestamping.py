"""The time-stamp authority's refusals: templates with their values in ``params``, shown in
English by the CLI and in the reader's language by the pages (the local TSA's name included)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from starlette.requests import Request

from ctip.errors import ConfigurationError, EvidenceError, Phrase
from ctip.services.timestamping import LocalTSA, init_local_tsa, tsa_from_settings
from ctip.settings import Settings
from ctip.web.pages.common import localised


def _page(locale: str) -> Request:
    return Request({"type": "http", "headers": [], "state": {"locale": locale}})


def test_a_token_that_does_not_verify_is_refused_in_english_and_russian(tmp_path: Path) -> None:
    """A local TSA checked against another TSA's certificates: the refusal names the TSA (a
    Phrase, translated inside the message) and says why, in English and in Russian."""
    init_local_tsa(tmp_path / "tsa")
    init_local_tsa(tmp_path / "other")
    tsa, other = LocalTSA(tmp_path / "tsa"), LocalTSA(tmp_path / "other")
    tsa.ca_pem, tsa.cert_pem = other.ca_pem, other.cert_pem  # trust the wrong root
    with pytest.raises(EvidenceError) as caught:
        tsa.stamp(hashlib.sha256(b"evidence").digest())
    error = caught.value
    assert error.params["tsa"] == Phrase("local OpenSSL TSA ({folder})",
                                         params={"folder": str(tmp_path / "tsa")})
    why = str(error.params["error"])
    assert why  # the token check's own reason, quoted as it came
    assert error.message == (f"The time-stamp authority local OpenSSL TSA ({tmp_path / 'tsa'}) "
                             f"gave a token that does not verify: {why}.")
    message, hint = localised(_page("ru"), error)
    assert message == (f"Служба меток времени локальная TSA OpenSSL ({tmp_path / 'tsa'}) "
                       f"выдала токен, который не проходит проверку: {why}.")
    assert hint == "проверьте CTIP_TSA и сертификаты TSA (CTIP_TSA_CA_FILE, CTIP_TSA_CERT_FILE)"


def test_a_tsa_setting_that_is_no_url_is_refused_in_english_and_chinese(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        tsa_from_settings(Settings(home=tmp_path, tsa="ftp://tsa.example"))
    error = caught.value
    assert error.message == "CTIP_TSA='ftp://tsa.example' is neither a URL nor 'local'."
    message, hint = localised(_page("zh"), error)
    assert message == "CTIP_TSA='ftp://tsa.example' 既不是 URL，也不是 'local'。"
    assert hint == "请将其设置为 TSA 的 https URL"
