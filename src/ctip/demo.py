"""``ctip demo``: the main job, end to end, on the embedded default (a SQLite file).

Stages, each a call into a service: set up a home (keys + migrated database), import the shipped
agencies' files, summarise what was stored and rejected, link the agencies' lists (identities are
opened only inside the audited linkage run), estimate the hidden number of victims from the
capture histories (multiple systems estimation), write the report with its exports, and keep a
file in the evidence locker and export its bundle. The demo never prints a victim's identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ctip.demo_data.generate import shipped_files
from ctip.settings import Settings


@dataclass
class DemoResult:
    directory: Path
    imports: list[Any] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    rejects: list[Any] = field(default_factory=list)
    linkage: Any = None
    estimate: Any = None
    other_estimates: list[Any] = field(default_factory=list)
    report: Any = None
    linkage_check: dict[str, Any] = field(default_factory=dict)
    finance: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    supply: dict[str, Any] = field(default_factory=dict)


def demo_settings(directory: Path) -> Settings:
    """Everything lives in the demo directory: keys, database, report."""
    directory = directory.resolve()
    return Settings(home=directory, database_url=None, key_file=None, pseudonym_key_file=None,
                    seal_key=None, pseudonym_key=None)


def run_demo(directory: Path, *, say: Callable[[str], None] = print,
             on_progress: Callable[[str, int, int], None] | None = None) -> DemoResult:
    from ctip.services.home import init_home
    from ctip.services.importing import import_path, stored_rejects
    from ctip.services.linkage import LinkageWork
    from ctip.services.statistics import store_summary

    settings = demo_settings(directory)
    result = DemoResult(directory=settings.home)
    init_home(settings)
    say(f"Home {settings.home}: keys and a SQLite database ready.")
    for path in shipped_files():
        def progress(done: int, total: int | None = None, _name: str = path.name) -> None:
            if on_progress:
                on_progress(_name, done, total or 0)

        report = import_path(settings, path, profile="canonical", actor="demo",
                             on_progress=progress)
        result.imports.append(report)
    result.rejects = stored_rejects(settings, actor="demo")
    result.summary = store_summary(settings)
    say("Linking the agencies' lists (Splink; identities opened only inside this audited run)...")
    with LinkageWork.open(settings, actor="demo") as work:
        result.linkage = work.link(lists="agency",
                                   reason="ctip demo: link the agencies' lists for estimation")
    result.linkage_check = linkage_check(result.linkage.clusters)
    say("Estimating the hidden number of victims (multiple systems estimation)...")
    result.estimate = estimate_stage(result.linkage.histories)
    result.other_estimates = sensitivity_stage(result.linkage.histories)
    say("Writing the report and its exports (every cell through disclosure control)...")
    result.report = report_stage(settings, settings.home / "report")
    from ctip.services.finflows_demo import finance_stage

    result.finance = finance_stage(settings, say=say)
    from ctip.services.supply_demo import supply_stage

    result.supply = supply_stage(settings, say=say)
    say("Keeping a file as evidence (hashed, encrypted, time-stamped by a local test TSA, signed "
        "custody) and exporting a bundle a court can check with openssl...")
    result.evidence = evidence_stage(settings)
    return result


def evidence_stage(settings: Settings) -> dict[str, Any]:
    """One synthetic chat export into the evidence locker of a new case, exported and verified.
    The TSA is a local OpenSSL one made now: a demo's trusted time proves nothing to a court."""
    import io
    import shutil

    from ctip.domain.access import Principal, Role
    from ctip.domain.records import Identity
    from ctip.services.anchoring import init_notary
    from ctip.services.casework import CaseIntake, Casework
    from ctip.services.evidence import Locker
    from ctip.services.evidence_bundle import export_bundle, verify_folder
    from ctip.services.timestamping import init_local_tsa

    settings = settings.model_copy(update={"tsa": "local"})
    init_notary(settings)
    init_local_tsa(settings.resolved_tsa_dir)
    officer = Principal("demo-officer", "demo.officer", Role.SUPERVISOR, "Demo police unit")
    casework = Casework.open(settings)
    try:
        case = casework.create_case(officer, CaseIntake(
            sex="female", age=27, nationality="PHL", languages=("tl",),
            exploitation_forms=("forced_labour",), identity=Identity(given_name="Demo")))
        locker = Locker.over(casework, settings)
        chat = (b"[2024-03-02 21:14] recruiter: your passport stays with me until the debt is "
                b"paid\n[2024-03-02 21:15] worker: when can I go home?\n")
        item = locker.ingest(officer, case.case_id, io.BytesIO(chat), name="chat-export.txt",
                             origin="synthetic demo file").item
        bundle = settings.home / "evidence-bundle"
        shutil.rmtree(bundle, ignore_errors=True)
        export_bundle(locker, officer, case.case_id, bundle, purpose="prosecution")
        report = verify_folder(bundle, trusted_locker=locker.notary.key_id)
        return {"case": case.case_id, "item_sha256": item.sha256, "bundle": str(bundle),
                "locker_key": locker.notary.key_id, "verified": report.ok,
                "events": report.events}
    finally:
        casework.engine.dispose()


def linkage_check(clusters: Any) -> dict[str, Any]:
    """Score the linkage against the demo's ground truth (the demo alone knows who is who).

    Pairwise precision and recall over record pairs, and the number of distinct people the
    agencies really met: unlinked duplicates look like people seen by one agency only and
    inflate the estimated hidden number, so this is the first thing to read beside the estimate.
    """
    from itertools import combinations

    from ctip.demo_data.generate import truth

    person_of = truth()
    keys = list(zip(clusters["agency"], clusters["source_record_id"], strict=True))
    found: dict[Any, list[Any]] = {}
    true: dict[int, list[Any]] = {}
    for key, cluster in zip(keys, clusters["cluster_id"], strict=True):
        found.setdefault(cluster, []).append(key)
        true.setdefault(person_of[key], []).append(key)

    def pairs(groups: dict[Any, list[Any]]) -> set[tuple[Any, Any]]:
        return {p for members in groups.values() for p in combinations(sorted(members), 2)}

    found_pairs, true_pairs = pairs(found), pairs(true)
    both = len(found_pairs & true_pairs)
    return {"people_found": len(found), "people_true": len(true),
            "precision": both / len(found_pairs) if found_pairs else 1.0,
            "recall": both / len(true_pairs) if true_pairs else 1.0}


def estimate_stage(histories: Any) -> Any:
    from ctip.services.estimation import estimate_histories

    return estimate_histories(histories, method="stepwise")


SENSITIVITY_METHODS = ("bic", "aic", "bayesthresh", "lcmcr")


def sensitivity_stage(histories: Any) -> list[Any]:
    """The same lists under the other models ctip offers. MSE practice is to report how much
    the figure depends on the model (docs/methods/estimation.md): log-linear models capture
    dependence between lists, LCMCR also differences between people in how visible they are to
    every list alike, and these disagree most when that heterogeneity is strong."""
    from ctip.services.estimation import estimate_histories

    return [estimate_histories(histories, method=method) for method in SENSITIVITY_METHODS]


def report_stage(settings: Settings, out: Path) -> Any:
    from ctip.services.reporting import build_report

    return build_report(settings, out)
