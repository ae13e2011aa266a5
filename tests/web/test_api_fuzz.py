"""schemathesis against /openapi.json: no generated request may get a 5xx.

Every operation is run anonymously and as a logged-in caseworker (bearer token), half the time on
a real case of the caseworker's agency, with a small, bounded number of examples each so the
whole run stays short. (schemathesis' own pytest
``from_fixture`` loader does not run under pytest 9 yet, so each operation's case strategy is
driven with Hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from api_support import add_user, client, login, make_app
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.slow  # schemathesis over every operation

EXAMPLES = 10


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path_factory.mktemp("fuzz") / "home")
    c = client(app)
    app.state.fuzz_token = login(c, "fuzz-worker", add_user(app, "fuzz-worker", "caseworker", "A"))[
        "token"
    ]
    # something to find: a case of the user's agency
    owner = app.state.accounts.principal_for("fuzz-worker")
    from ctip.services.casework import CaseIntake

    case = app.state.casework.create_case(owner, CaseIntake(sex="male", age=40))
    app.state.fuzz_case_id = case.case_id
    return app


def operations(app):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_fuzzed(fuzz_app):  # type: ignore[no-untyped-def]
    labels = {op.label for op in operations(fuzz_app)}
    assert "GET /api/cases" in labels and "POST /api/cases/{case_id}/transitions" in labels
    assert len(labels) >= 30


def test_no_server_error(fuzz_app):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"}
    failures = []
    for operation in operations(fuzz_app):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case):  # type: ignore[no-untyped-def]
            # half the time aim at a real case, so the handlers behind the 404 get fuzzed too
            if "case_id" in (case.path_parameters or {}) and len(repr(case.body)) % 2 == 0:
                case.path_parameters["case_id"] = fuzz_app.state.fuzz_case_id
            for extra in ({}, headers):
                response = case.call(base_url="https://testserver", headers=extra)
                assert response.status_code < 500, (
                    f"{operation.label} -> {response.status_code}: {response.text[:300]}\n"
                    f"path={case.path_parameters} query={case.query} body={case.body!r}"[:800]
                )

        try:
            run()
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n\n".join(failures)
