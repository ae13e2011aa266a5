"""The demo's finance stage (``ctip demo``): a synthetic bank's statements, imported and screened.

Files as a bank would send them (a CSV statement export with the bank's own column names and
its mapping file, one account's ISO 20022 camt.053 statement, a KYC extract, and the FIU's
reference lists) are written once into the demo directory, imported with the read = accepted +
rejected promise, screened by every rule and graph pattern, and scored against the generator's
ground truth (which only the demo knows). The alerts wait on the review queue; an HTML page
draws the top alert's network (offline SVG). No account number or name is printed.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ctip.settings import Settings

AGENCY = "FIU"
CUSTOMERS, MONTHS, SEED = 600, 3, 2024
BANK_COLUMNS = {"txn_id": "Reference", "booked_at": "Booking time", "amount": "Amount",
                "currency": "Currency", "direction": "Dr/Cr", "channel": "Channel",
                "account": "Account", "counterparty_account": "Counterparty account",
                "counterparty_name": "Counterparty", "counterparty_country": "Country",
                "merchant_name": "Merchant", "mcc": "MCC", "location": "Branch",
                "region": "Region", "purpose": "Purpose code"}


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_files(folder: Path, bank: Any) -> dict[str, Path]:
    from ctip.finflows import camt053

    folder.mkdir(parents=True, exist_ok=True)
    files = {"statements": folder / "bank-statements.csv", "mapping": folder / "bank-mapping.yaml",
             "camt": folder / "statement-camt053.xml", "kyc": folder / "kyc.csv",
             "recruitment_agencies": folder / "list-recruitment-agencies.csv",
             "darknet_wallets": folder / "list-darknet-wallets.csv",
             "ad_identifiers": folder / "list-ad-identifiers.csv"}
    if all(p.exists() for p in files.values()):
        return files
    rows = list(bank.canonical_rows())
    first = bank.account_number(0)
    code = {"in": "CR", "out": "DR"}
    _write_csv(files["statements"], list(BANK_COLUMNS.values()),
               ([code[r[k]] if k == "direction" else r[k] for k in BANK_COLUMNS]
                for r in rows if r["account"] != first))
    files["mapping"].write_text(
        "kind: transactions\ncolumns:\n" + "".join(f"  {k}: \"{v}\"\n"
                                                   for k, v in BANK_COLUMNS.items())
        + "values:\n  direction: {CR: in, DR: out}\n", encoding="utf-8")
    files["camt"].write_bytes(camt053.write_camt053(
        "DEMO-2024-Q1", first, "USD", [r for r in rows if r["account"] == first]))
    parties = list(bank.party_rows())
    _write_csv(files["kyc"], list(parties[0]), ([p[k] for k in parties[0]] for p in parties))
    for name in ("recruitment_agencies", "darknet_wallets"):
        _write_csv(files[name], ["account"],
                   ([bank.account_number(i)] for i in bank.lists.get(name, [])))
    _write_csv(files["ad_identifiers"], ["kind", "value"], bank.lists.get("ad_identifiers", []))
    return files


def finance_stage(settings: Settings, *, say: Callable[[str], None] = print) -> dict[str, Any]:
    from ctip.domain.access import Principal, Role
    from ctip.finflows import synthetic
    from ctip.finflows.frames import reference
    from ctip.services.finflows import FinFlows
    from ctip.services.finflows_report import write_report

    say("Finance stage: a synthetic bank's statements screened for trafficking red flags...")
    bank = synthetic.generate(CUSTOMERS, seed=SEED, months=MONTHS, instances=3)
    files = write_files(settings.home / "finflows", bank)
    flows = FinFlows.open(settings)
    imports = [flows.import_file(files["statements"], agency=AGENCY, actor="demo",
                                 mapping=files["mapping"]),
               flows.import_file(files["camt"], agency=AGENCY, actor="demo"),
               flows.import_file(files["kyc"], agency=AGENCY, actor="demo", kind="parties")]
    lists = {name: files[name] for name in ("recruitment_agencies", "darknet_wallets",
                                            "ad_identifiers")}
    run = flows.run(AGENCY, actor="demo", lists=lists)
    evaluation = synthetic.evaluate(
        bank, run.alerts, run.rules,
        ref_of=lambda i: reference(flows.account_key(AGENCY, bank.account_number(i))))
    reviewer = Principal("demo", "demo-investigator", Role.INVESTIGATOR, AGENCY)
    page = write_report(flows, reviewer, settings.home / "report" / "finflows.html")
    flows.engine.dispose()
    return {"imports": [{"file": r.file, "format": r.format, "kind": r.kind, "read": r.read,
                         "accepted": r.accepted, "rejected": r.rejected} for r in imports],
            "transactions": run.transactions, "accounts": run.accounts, "hits": run.hits,
            "alerts": len(run.alerts), "alerts_per_10k_accounts": round(run.per_10k_accounts),
            "queued": run.enqueued, "not_assessed": run.not_assessed,
            "against_ground_truth": evaluation, "page": str(page)}
