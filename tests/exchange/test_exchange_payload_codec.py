"""The fast payload paths of ctip.exchange against their plain counterparts: JSON Lines written
and read in one call each (same bytes as one call per record, same records back, bad lines
named), the profile gate by column (same verdict and message as one record at a time), the
hand-joined tar (byte for byte what ``tarfile`` writes)."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctip.errors import ExchangeError
from ctip.exchange import package as pk
from ctip.exchange import payloads
from ctip.exchange import profiles as pr

_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12)
_values = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=3)
                       | st.dictionaries(st.text(max_size=5), kids, max_size=3), max_leaves=8)
_records = st.lists(st.dictionaries(st.text(max_size=8), _values, max_size=5), max_size=8)


@settings(max_examples=80, deadline=None)
@given(_records)
def test_json_lines_are_one_compact_object_per_line_and_read_back(records) -> None:  # type: ignore[no-untyped-def]
    data = pk.jsonl(records)
    expected = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                       for r in records).encode()
    assert data == expected
    assert pk.read_jsonl(data, where="payload/cases.jsonl") == records
    # blank lines and CRLF are still JSON Lines
    assert pk.read_jsonl(b"\n" + data.replace(b"\n", b"\r\n\n"), where="x") == records


@pytest.mark.parametrize(("text", "line"), [
    (b'{"a":1}\n{"b":[1\n2]}\n', 2),  # a value split over two lines
    (b'{"a":1}{"b":2}\n', 1),  # two values on one line
    (b'{"a":1}\n{"b":2}{"c":3}\n\n', 2),  # ... even with a blank line to make up the count
    (b'{"a":1}\n{"b":\n', 2),  # truncated
    (b'{"a":"\xff"}\n', 1),  # not UTF-8
])
def test_a_bad_line_is_named(text: bytes, line: int) -> None:
    with pytest.raises(ExchangeError) as caught:
        pk.read_jsonl(text, where="payload/cases.jsonl")
    assert caught.value.reason == "malformed"
    assert f"payload/cases.jsonl, line {line}: not JSON" in str(caught.value)


def test_a_record_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(ExchangeError) as caught:
        pk.jsonl([{"ref": "r1", "when": object()}])
    assert caught.value.reason == "malformed"


def _one_at_a_time(prof: pr.Profile, records: list[Any]) -> str | None:
    """The gate as it was, every record on its own: the reference for the column gate (the
    value rules themselves, ``_value_ok``, are unchanged)."""
    max_tier = pr.TIERS.index(prof.definition["max_tier"])
    ok = {f for f in prof.allow if pr.TIERS.index(prof.tiers.get(f, "T3")) <= max_tier}
    for n, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            return f"record {n}: not a JSON object"
        if any(k not in ok for k in record):
            return f"record {n}: field"
        for name, rule in prof.rules.items():
            if name in record and not pr._value_ok(prof, rule, record[name]):
                return f"record {n}: field {name!r} breaks"
    return None


_fields = st.sampled_from(["ref", "sex", "age_band", "identified_month", "given_name",
                           "family_name", "narrative", "needs"])
_field_values = (st.none() | st.sampled_from(["18-24", "50+", "2026-03", "2026-13", "2026-03-04",
                                              "x"]) | st.integers(0, 3) | st.lists(st.text(
                                                  max_size=2), max_size=2))
_gate_records = st.lists(st.dictionaries(_fields, _field_values, max_size=4)
                         | st.just(["not", "a", "record"]), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["referral-services", "cross-border-return", "referral-response"]),
       _gate_records)
def test_gate_by_column_refuses_exactly_what_the_record_gate_refuses(profile_id, records) -> None:  # type: ignore[no-untyped-def]
    prof = pr.profile(profile_id)
    expected = _one_at_a_time(prof, records)
    if expected is None:
        assert pr.check_records(prof, records, where="f") == len(records)
        return
    with pytest.raises(ExchangeError) as caught:
        pr.check_records(prof, records, where="f")
    assert str(caught.value).startswith(f"f, {expected}")


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["referral-services", "cross-border-return", "referral-response",
                        "nrm-decision"]), _gate_records)
def test_the_struct_check_of_json_lines_refuses_exactly_what_the_record_gate_refuses(
        profile_id, records) -> None:  # type: ignore[no-untyped-def]
    """The receiver checks case JSON Lines without building them (a struct per profile): the
    verdict and the refusal are those of reading every record and gating it."""
    prof = pr.profile(profile_id)
    data = pk.jsonl(records)
    try:
        expected: str | int = pr.check_records(prof, pk.read_jsonl(data, where="f"), where="f")
    except ExchangeError as error:
        expected = str(error)
    try:
        got: str | int = payloads.check_jsonl(prof, data, where="f")
    except ExchangeError as error:
        got = str(error)
    assert got == expected


def test_profile_without_rules_passes_records_on_without_copies() -> None:
    prof = pr.profile("nrm-decision")
    records = [{"ref": "r1", "age": 30}]
    assert pr.apply_rules_all(prof, records)[0] is records[0]
    banded = pr.apply_rules_all(pr.profile("referral-services"), records)
    assert banded == [{"ref": "r1", "age_band": "25-34"}] and records == [{"ref": "r1", "age": 30}]


def _tarfile(members: list[tuple[str, bytes]], mtime: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o600
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=1500), max_size=4), st.integers(0, 2**32))
def test_hand_joined_tar_is_what_tarfile_writes(blobs, mtime) -> None:  # type: ignore[no-untyped-def]
    head = [(pk.MANIFEST, pk.canonical_json({"ctip_exchange": pk.FORMAT})),
            (pk.SIGNATURE, bytes(64))]
    members = head + [(f"payload/f{i}.jsonl", b) for i, b in enumerate(blobs)]
    assert pk._tar(members, mtime) == _tarfile(members, mtime)
    assert pk.read_members(pk._tar(members, mtime)).files == dict(members[2:])
