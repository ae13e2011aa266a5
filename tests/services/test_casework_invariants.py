"""I1 through the service, property-based: two twin cases take the same random walk through the
NRM workflow; one twin also moves through the justice region (reporting, investigation, trial,
declining...). Every step must succeed or fail identically for both twins, and their assistance,
main, child and non-punishment states must stay equal: nothing about cooperation with the
authorities can open or close a door to help."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ctip.domain import nrm
from ctip.domain.access import Principal, Role
from ctip.errors import CtipError
from ctip.services.casework import CaseIntake, Casework
from ctip.storage.engine import make_engine, migrate
from ctip.storage.keys import KeyRing
from ctip.storage.sealing import Pseudonymiser, Sealer

PEOPLE = [
    Principal(f"u-{r}", r, Role(r), "A")
    for r in ("caseworker", "supervisor", "competent_authority")
]
REGIONS = ("main", "assistance", "child", "non_punishment")
CONFIRM = ("safe_setting", "interpreter_offered", "risk_assessment", "handover_acknowledged")


@pytest.fixture(scope="module")
def cw(tmp_path_factory):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('walk') / 'ctip.db'}")
    migrate(engine)
    return Casework(engine, Sealer(KeyRing.generate()), Pseudonymiser(secrets.token_bytes(32)))


def _state(cw: Casework, case_id: str) -> dict:
    data = cw.get_case(PEOPLE[0], case_id).data
    return {
        k: data[k]
        for k in (
            "status",
            "assistance_state",
            "child_state",
            "non_punishment_state",
            "non_punishment_flag",
        )
    }


def _try(call):  # type: ignore[no-untyped-def]
    try:
        call()
        return "ok"
    except CtipError as error:
        return f"{type(error).__name__}: {error}"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=(Phase.explicit, Phase.generate),
)  # no shrinking: each example is a DB walk
@given(
    age=st.sampled_from([None, 12, 30]),
    consents=st.sets(st.sampled_from(["nrm_referral", "durable_solution"])),
    walk=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 2), st.integers(0, 50)),
        min_size=3,
        max_size=14,
    ),
)
def test_justice_region_never_changes_an_assistance_outcome(cw, age, consents, walk):  # type: ignore[no-untyped-def]
    plain, cooperating = (
        cw.create_case(PEOPLE[0], CaseIntake(sex="female", age=age)).case_id for _ in range(2)
    )
    for case_id in (plain, cooperating):
        for purpose in sorted(consents):
            cw.record_consent(PEOPLE[0], case_id, purpose=purpose)
    cw.record_consent(PEOPLE[0], cooperating, purpose="law_enforcement_contact")
    for pick, who, justice_pick in walk:
        # the cooperating twin takes a justice step first (when one is possible; it may be refused,
        # e.g. reporting after the person withdrew their consent)
        justice = cw.get_case(PEOPLE[0], cooperating).data["justice_state"]
        options = nrm.allowed_targets("justice", justice, "caseworker")
        if options:
            target = options[justice_pick % len(options)]
            _try(lambda: cw.transition(PEOPLE[0], cooperating, region="justice", to_state=target))
        state = _state(cw, plain)
        steps = [
            (r, t)
            for r in REGIONS
            for t in nrm.allowed_targets(
                r, state["status"] if r == "main" else state[f"{r}_state"], PEOPLE[who].role.value
            )
        ]
        if not steps:
            continue
        region, target = steps[pick % len(steps)]
        outcomes = [
            _try(
                lambda c=c: cw.transition(
                    PEOPLE[who],
                    c,
                    region=region,
                    to_state=target,
                    reason="decided with the person",
                    confirmations=CONFIRM,
                )
            )
            for c in (plain, cooperating)
        ]
        assert outcomes[0].replace(plain, "X") == outcomes[1].replace(cooperating, "X"), (
            region,
            target,
        )
        assert _state(cw, plain) == _state(cw, cooperating)
