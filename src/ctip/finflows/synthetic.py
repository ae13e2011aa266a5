"""A seeded synthetic bank: customers, their transactions, injected typologies, ground truth.

Written for ctip (no code from AMLSim or other simulators; their pattern names are the
vocabulary). Background customers behave normally and include the look-alikes that make
precision meaningful: people with two or three jobs, households sharing an address, migrants
remitting home every month, travelling sales staff, bars that deposit their takings at night,
consulting firms on hotel bills, legitimate massage businesses with payroll. Each typology
instance is injected on top of an ordinary customer and recorded in ``truth`` (typology ->
account indices).

Volumes are vectorised with numpy (10 million transactions in seconds); the injected typologies
are a few thousand rows built one by one. ``Bank.analytic()`` gives the frames the rules run on
(account references are index + 1); ``Bank.canonical_rows()`` gives rows with account numbers
and names, as a bank's export would, for the CSV and camt.053 writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHANNELS = ["cash", "wire", "ach", "card", "prepaid", "msb", "crypto", "cheque", "transfer",
            "other"]
PURPOSES = ["", "SALA", "RENT", "SUPP", "UBIL", "GDDS", "PAYR"]
REGIONS = [f"R{i:02d}" for i in range(1, 13)]
LOCATIONS = [f"{r}-B{b}" for r in REGIONS for b in range(1, 5)]
COUNTRIES = ["US", "MX", "PH", "IN", "NG", "GT", "VN", "CN", "DE", "GB", "NL", "CY", "MT",
             "KP", "IR", "MM"]
REMIT_TO = ["MX", "PH", "IN", "NG", "GT", "VN", "CN"]
HIGH_RISK = ["KP", "IR", "MM"]
AD_SITES = [("NIGHTADS-EXAMPLE.INVALID*POST", "CY"), ("ESCORTLIST-EXAMPLE.INVALID", "MT"),
            ("CLASSIFIEDS-EXAMPLE.INVALID*AD", "NL"), ("LOCALADS-EXAMPLE.INVALID", "US")]
# card spending of private persons: (mcc, share, median amount)
PERSON_MCC = [("5411", .30, 45), ("5812", .14, 28), ("5541", .10, 40), ("5651", .06, 60),
              ("5912", .05, 18), ("4111", .04, 3), ("4121", .03, 19), ("5999", .15, 35),
              ("7832", .04, 15), ("5311", .06, 50), ("7011", .01, 140), ("4511", .006, 250),
              ("7512", .003, 120), ("6540", .002, 50), ("8011", .007, 90)]
BUSINESS_TYPES = ["restaurant", "retail", "construction", "consulting", "hotel", "nail_salon",
                  "massage", "bar", "transport", "cleaning", "agriculture", "spa"]
CASH_BUSINESSES = {"restaurant", "retail", "nail_salon", "massage", "bar", "spa"}
TYPOLOGIES = ("structuring", "wage_collection", "front_company", "sex_ads", "funnel",
              "round_tripping", "layering", "alternative_payments", "recruitment_fees",
              "ad_identifiers", "escorted_customer", "high_risk_wires")
DAY = 86_400


@dataclass
class Bank:
    """The generated data: column arrays of transactions, customers, identifiers, truth."""

    start: np.datetime64
    columns: dict[str, np.ndarray]
    customers: dict[str, np.ndarray]  # per internal account index
    externals: int  # accounts numbered from customers' count upwards are other banks'
    identifiers: list[tuple[int, str, str]]  # (party index, kind, value)
    truth: dict[str, set[int]]
    lists: dict[str, list[Any]] = field(default_factory=dict)  # list name -> account indices
    merchants: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.columns["account"])

    def analytic(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """(tx, accounts, identifiers) with the ANALYTIC/ACCOUNT/IDENTIFIER columns."""
        c = self.columns
        ids = pc.binary_join_element_wise(
            "T", pc.cast(pa.array(c["seq"]), pa.string()), "")

        def coded(codes: np.ndarray, vocab: list[str]) -> pa.Array:
            mask = codes < 0
            return pa.DictionaryArray.from_arrays(
                pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask),
                pa.array(vocab)).cast(pa.string())

        seconds = self.start.astype("datetime64[s]").astype(np.int64) + c["ts"]
        cp = c["counterparty"]
        tx = pa.table({
            "txn_id": ids,
            "booked_at": pa.array(seconds.astype("datetime64[s]")).cast(pa.timestamp("us")),
            "time_known": pa.array(c["time_known"]),
            "amount": pa.array(np.round(c["amount"], 2)),
            "currency": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(self.size, np.int32)), pa.array(["USD"])).cast(pa.string()),
            "channel": coded(c["channel"], CHANNELS),
            "direction": coded(c["direction"], ["in", "out"]),
            "account": pa.array(c["account"] + 1),
            "counterparty": pa.array(cp + 1, mask=cp < 0),
            "counterparty_country": coded(c["country"], COUNTRIES),
            "merchant": coded(c["merchant"], self.merchants),
            "mcc": coded(c["mcc"], MCC_VOCAB),
            "location": coded(c["location"], LOCATIONS),
            "region": coded(np.where(c["location"] < 0, -1, c["location"] // 4), REGIONS),
            "purpose": coded(np.where(c["purpose"] <= 0, -1, c["purpose"]), PURPOSES),
        })
        k = self.customers
        n = len(k["type"])
        accounts = pa.table({
            "account": pa.array(np.arange(n, dtype=np.int64) + 1),
            "party": pa.array(k["party"] + 1),
            "customer_type": pa.array(np.where(k["type"] == 1, "business", "person")),
            "business_type": pa.array([BUSINESS_TYPES[b] if b >= 0 else None
                                       for b in k["business"]], pa.string()),
            "employees": pa.array(k["employees"].astype(np.int32)),
            "home_region": pa.array([REGIONS[r] for r in k["region"]]),
            "opens": pa.array(k["opens"].astype(np.int32), mask=k["opens"] < 0),
            "closes": pa.array(k["closes"].astype(np.int32), mask=k["closes"] < 0),
            "observed": pa.array(["third_party_present" if o else None for o in k["observed"]],
                                 pa.string()),
        })
        idents = pa.table({
            "party": pa.array([p + 1 for p, _, _ in self.identifiers], pa.int64()),
            "kind": pa.array([kind for _, kind, _ in self.identifiers], pa.string()),
            "key": pa.array([value for _, _, value in self.identifiers], pa.string()),
        })
        return tx, accounts, idents

    def account_number(self, index: int) -> str:
        return f"SY{index:014d}"

    def canonical_rows(self) -> Iterator[dict[str, str]]:
        """Rows as a bank exports them (canonical field names), for the file writers; account
        numbers and fictitious names in clear, as in a real export."""
        tx, _, _ = self.analytic()
        cols = tx.to_pydict()
        n_customers = len(self.customers["type"])
        for i in range(tx.num_rows):
            account = cols["account"][i] - 1
            cp = cols["counterparty"][i]
            cp_number = self.account_number(cp - 1) if cp is not None else ""
            stamp = cols["booked_at"][i]
            yield {
                "txn_id": cols["txn_id"][i],
                "booked_at": (stamp.isoformat(timespec="seconds") if cols["time_known"][i]
                              else stamp.date().isoformat()),
                "amount": f"{cols['amount'][i]:.2f}", "currency": cols["currency"][i],
                "direction": cols["direction"][i], "channel": cols["channel"][i],
                "account": self.account_number(account),
                "counterparty_account": cp_number,
                "counterparty_name": (self.name(cp - 1, cp - 1 < n_customers)
                                      if cp is not None else ""),
                "counterparty_country": cols["counterparty_country"][i] or "",
                "merchant_name": cols["merchant"][i] or "", "mcc": cols["mcc"][i] or "",
                "location": cols["location"][i] or "", "region": cols["region"][i] or "",
                "purpose": cols["purpose"][i] or "",
            }

    def name(self, index: int, internal: bool = True) -> str:
        first = ["Alex", "Sam", "Rene", "Kim", "Noor", "Ivan", "Lea", "Omar", "Ana", "Joe"]
        last = ["Rivera", "Okafor", "Nguyen", "Schmidt", "Haddad", "Santos", "Kowalski", "Lee"]
        if internal and self.customers["type"][index] == 1:
            return f"{last[index % 8]} {BUSINESS_TYPES[self.customers['business'][index]]} LLC"
        return f"{first[index % 10]} {last[(index // 10) % 8]} {index}"

    def party_rows(self) -> Iterator[dict[str, str]]:
        k = self.customers
        by_party: dict[int, dict[str, str]] = {}
        for party, kind, value in self.identifiers:
            by_party.setdefault(party, {})[kind] = value
        for i in range(len(k["type"])):
            ident = by_party.get(int(k["party"][i]), {})
            yield {
                "party_id": f"C{int(k['party'][i]):08d}", "account": self.account_number(i),
                "customer_type": "business" if k["type"][i] == 1 else "person",
                "name": self.name(i),
                "business_type": BUSINESS_TYPES[k["business"][i]] if k["business"][i] >= 0
                else "",
                "employees": str(int(k["employees"][i])), "region": REGIONS[k["region"][i]],
                "opens": "" if k["opens"][i] < 0 else str(int(k["opens"][i])),
                "closes": "" if k["closes"][i] < 0 else str(int(k["closes"][i])),
                "phone": ident.get("phone", ""), "email": ident.get("email", ""),
                "address": ident.get("address", ""), "device_id": ident.get("device_id", ""),
                "observed": "third_party_present" if k["observed"][i] else "",
            }


MCC_VOCAB = sorted({m for m, _, _ in PERSON_MCC} | {"7273", "6051", "4829", "5300", "7399",
                                                      "4131", "5691", "8062"})


class _Rows:
    """Column arrays appended in chunks (vectorised) or one by one (typologies)."""

    NAMES = ("account", "ts", "amount", "channel", "direction", "counterparty", "country",
             "merchant", "mcc", "location", "purpose", "time_known")

    def __init__(self) -> None:
        self.chunks: dict[str, list[np.ndarray]] = {n: [] for n in self.NAMES}

    def add(self, n: int, **values: Any) -> None:
        defaults = {"counterparty": -1, "country": -1, "merchant": -1, "mcc": -1,
                    "location": -1, "purpose": 0, "time_known": True}
        for name in self.NAMES:
            value = values.get(name, defaults.get(name))
            self.chunks[name].append(np.broadcast_to(np.asarray(value), (n,)).copy())

    def one(self, account: int, ts: float, amount: float, channel: str, direction: str,
            **extra: Any) -> None:
        values = {"account": account, "ts": int(ts), "amount": amount,
                  "channel": CHANNELS.index(channel), "direction": 0 if direction == "in" else 1}
        for key, value in extra.items():
            if key == "purpose":
                values[key] = PURPOSES.index(value)
            elif key == "country":
                values[key] = COUNTRIES.index(value)
            elif key == "mcc":
                values[key] = MCC_VOCAB.index(value)
            else:
                values[key] = value
        self.add(1, **values)

    def transfer(self, src: int, dst: int, ts: float, amount: float, channel: str,
                 internal: int, purpose: str = "", country: str = "US") -> None:
        """A payment between accounts: the sender's statement has it; so does the receiver's
        when the receiver is a customer too (index below ``internal``)."""
        if src < internal:
            self.one(src, ts, amount, channel, "out", counterparty=dst, purpose=purpose,
                     country=country)
        if dst < internal:
            self.one(dst, ts + 1, amount, channel, "in", counterparty=src, purpose=purpose,
                     country=country)

    def arrays(self) -> dict[str, np.ndarray]:
        return {n: np.concatenate(c) for n, c in self.chunks.items()}


def generate(accounts: int = 5000, *, seed: int = 1, months: int = 6, instances: int | None = None,
             start: str = "2024-01-01") -> Bank:
    """A bank with ``accounts`` customers over ``months`` months and ``instances`` of every
    typology (default: one per 1,000 customers, at least 3)."""
    rng = np.random.default_rng(seed)
    n = accounts
    inst = instances if instances is not None else max(3, n // 1000)
    rows = _Rows()
    days = months * 30
    business = rng.random(n) < 0.15
    btype = np.where(business, rng.integers(0, len(BUSINESS_TYPES), n), -1)
    region = rng.integers(0, len(REGIONS), n)
    home_loc = region * 4 + rng.integers(0, 4, n)
    employees = np.where(business, rng.integers(1, 25, n), 0)
    opens = np.where(business, rng.integers(7, 11, n), -1)
    closes = np.where(business, rng.integers(17, 21, n), -1)
    bar = btype == BUSINESS_TYPES.index("bar")
    opens, closes = np.where(bar, 16, opens), np.where(bar, 2, closes)
    # external accounts: employers, landlords, utilities, acquirers, suppliers, people abroad
    ext = {"employer": n + np.arange(max(20, n // 40)), }
    nxt = n + len(ext["employer"])
    for name, size in (("landlord", max(10, n // 60)), ("utility", 8), ("acquirer", 3),
                       ("supplier", max(20, n // 30)), ("abroad", max(50, n // 10)),
                       ("processor", 4), ("agency", 6), ("wallet", 12), ("sink", 50),
                       ("people", max(100, n // 5))):
        ext[name] = nxt + np.arange(size)
        nxt += size
    merchants = [f"MERCHANT {m}-{j:03d}" for m in MCC_VOCAB for j in range(40)]
    merchants += [site for site, _ in AD_SITES]
    bank = Bank(start=np.datetime64(start), columns={}, customers={}, externals=nxt,
                identifiers=[], truth={t: set() for t in TYPOLOGIES}, merchants=merchants)
    # typology accounts are chosen first, so their background can be shaped (no payroll...)
    persons = np.flatnonzero(~business)
    businesses = np.flatnonzero(business)
    rng.shuffle(persons)
    rng.shuffle(businesses)
    pick = _Picker(persons, businesses)
    plan = _plan(pick, inst, rng, btype, employees, opens, closes)
    quiet = plan["quiet"]  # accounts whose normal salary/rent the typology replaces
    no_ach = plan["no_ach"]
    _background(rows, rng, n, days, business, btype, home_loc, employees, opens, closes, ext,
                quiet, no_ach, merchants, plan["light"])
    # branch staff also note a third party with some ordinary customers (false alarms)
    observed = (~business) & (rng.random(n) < 0.002)
    involved = [i for group in plan.values() if isinstance(group, list) for i in _flat(group)]
    observed[involved] = False
    for kind, builder in _INJECT.items():
        for spec in plan[kind]:
            builder(rows, rng, spec, bank, ext, home_loc, days, merchants, observed)
    party = np.arange(n)
    _households(bank, rng, n, party, plan)
    cols = rows.arrays()
    order = np.lexsort((cols["account"], cols["ts"]))
    bank.columns = {k: v[order] for k, v in cols.items()}
    bank.columns["seq"] = np.arange(1, len(order) + 1)
    bank.customers = {"type": business.astype(np.int8), "business": btype, "region": region,
                      "employees": employees, "opens": opens, "closes": closes,
                      "observed": observed, "party": party}
    return bank


def _flat(group: Any) -> list[int]:
    out: list[int] = []
    for item in group:
        if isinstance(item, list | tuple):
            out += _flat(item)
        else:
            out.append(int(item))
    return out


class _Picker:
    def __init__(self, persons: np.ndarray, businesses: np.ndarray) -> None:
        self.persons, self.businesses = list(persons), list(businesses)

    def person(self, k: int = 1) -> list[int]:
        if len(self.persons) < k:
            raise ValueError("too few customers for the typologies asked: add accounts")
        out, self.persons = self.persons[:k], self.persons[k:]
        return [int(i) for i in out]

    def business(self, k: int = 1) -> list[int]:
        if len(self.businesses) < k:
            raise ValueError("too few business customers for the typologies: add accounts")
        out, self.businesses = self.businesses[:k], self.businesses[k:]
        return [int(i) for i in out]


def _plan(pick: _Picker, inst: int, rng: np.random.Generator, btype: np.ndarray,
          employees: np.ndarray, opens: np.ndarray, closes: np.ndarray) -> dict[str, Any]:
    plan: dict[str, Any] = {k: [] for k in TYPOLOGIES}
    plan["quiet"], plan["no_ach"], plan["light"] = set(), set(), set()
    for _ in range(inst):
        plan["structuring"].append(pick.person()[0])
        controller = pick.person()[0]
        victims = pick.person(int(rng.integers(4, 8)))
        direct = pick.person(3)  # their wages are paid straight to the controller
        plan["wage_collection"].append((controller, victims, direct))
        plan["quiet"].update(victims + direct)
        front = pick.business()[0]
        btype[front] = BUSINESS_TYPES.index(["massage", "nail_salon", "spa"][int(rng.integers(3))])
        employees[front], opens[front], closes[front] = 6, 10, 20
        plan["front_company"].append(front)
        plan["no_ach"].add(front)
        plan["sex_ads"].append(pick.person()[0])
        plan["funnel"].append(pick.person()[0])
        plan["round_tripping"].append(pick.business(int(rng.integers(3, 6))))
        plan["layering"].append((pick.person()[0], pick.person(int(rng.integers(3, 6))),
                                 pick.business()[0]))
        plan["alternative_payments"].append(pick.person()[0])
        plan["light"].add(plan["alternative_payments"][-1])
        plan["recruitment_fees"].append(pick.person(int(rng.integers(3, 6))))
        plan["ad_identifiers"].append(pick.person()[0])
        plan["escorted_customer"].append(pick.person()[0])
        plan["high_risk_wires"].append(pick.person()[0])
    return plan


def _times(rng: np.random.Generator, k: int, days: int, hours: tuple[float, float] = (8, 22),
           night: float = 0.0) -> np.ndarray:
    day = rng.integers(0, days, k)
    hour = rng.uniform(hours[0], hours[1], k)
    late = rng.random(k) < night
    hour = np.where(late, (22 + rng.uniform(0, 7, k)) % 24, hour)
    return day * DAY + (hour * 3600).astype(np.int64)


def _background(rows: _Rows, rng: np.random.Generator, n: int, days: int, business: np.ndarray,
                btype: np.ndarray, home_loc: np.ndarray, employees: np.ndarray,
                opens: np.ndarray, closes: np.ndarray, ext: dict[str, np.ndarray],
                quiet: set[int], no_ach: set[int], merchants: list[str],
                plan_light: set[int]) -> None:
    months = days // 30
    persons = np.flatnonzero(~business)
    normal = persons[~np.isin(persons, list(quiet))]
    ach, card, cash = CHANNELS.index("ach"), CHANNELS.index("card"), CHANNELS.index("cash")
    # salaries: one payer, 6 % two, 0.4 % three (people with several jobs)
    jobs = 1 + (rng.random(len(normal)) < 0.06) + (rng.random(len(normal)) < 0.004)
    salary = rng.lognormal(np.log(3000), 0.4, len(normal))
    internal_employers = np.flatnonzero(business & (employees > 0))
    if len(internal_employers) == 0:
        internal_employers = ext["employer"]
    for j in range(3):
        who = normal[jobs > j]
        employer = np.where(rng.random(len(who)) < 0.25,
                            rng.choice(internal_employers, len(who)),
                            rng.choice(ext["employer"], len(who)))
        for m in range(months):
            ts = ((m * 30 + rng.integers(24, 28, len(who))) * DAY
                  + rng.integers(8, 12, len(who)) * 3600)
            pay = salary[jobs > j] / (1 + j)
            rows.add(len(who), account=who, ts=ts, amount=pay, channel=ach, direction=0,
                     counterparty=employer, country=0, purpose=1)
            inside = employer < n  # the employer's own statement shows the payroll
            rows.add(int(inside.sum()), account=employer[inside], ts=ts[inside] - 60,
                     amount=pay[inside], channel=ach, direction=1, counterparty=who[inside],
                     country=0, purpose=1)
    # rent and utilities
    landlord = rng.choice(ext["landlord"], len(normal))
    for m in range(months):
        ts = (m * 30 + rng.integers(0, 3, len(normal))) * DAY + 7 * 3600
        rows.add(len(normal), account=normal, ts=ts, amount=salary * rng.uniform(.25, .4,
                 len(normal)), channel=ach, direction=1, counterparty=landlord, country=0,
                 purpose=2)
        ts2 = (m * 30 + rng.integers(5, 15, len(normal))) * DAY + 7 * 3600
        rows.add(len(normal), account=normal, ts=ts2, amount=rng.uniform(40, 160, len(normal)),
                 channel=ach, direction=1, counterparty=rng.choice(ext["utility"], len(normal)),
                 country=0, purpose=4)
    # card spending (travelling staff spend in many regions)
    traveller = rng.random(n) < 0.015
    rate = np.where(business, 0, rng.uniform(15, 55, n)) * months
    light = list(quiet | plan_light)
    rate[light] = rate[light] * 0.3
    k = rng.poisson(rate)
    who = np.repeat(np.arange(n), k)
    total = len(who)
    shares = np.array([s for _, s, _ in PERSON_MCC])
    choice = rng.choice(len(PERSON_MCC), total, p=shares / shares.sum())
    mcc = np.array([MCC_VOCAB.index(m) for m, _, _ in PERSON_MCC])[choice]
    median = np.array([a for _, _, a in PERSON_MCC], float)[choice]
    away = rng.random(total) < np.where(traveller[who], 0.6, 0.04)
    loc = np.where(away, rng.integers(0, len(LOCATIONS), total), home_loc[who])
    merchant = mcc * 40 + rng.integers(0, 40, total)
    rows.add(total, account=who, ts=_times(rng, total, days, night=0.04),
             amount=np.maximum(1, rng.lognormal(np.log(median), 0.6)), channel=card, direction=1,
             merchant=merchant, mcc=mcc, location=loc, country=0)
    # cash withdrawals; a few persons deposit cash
    k = rng.poisson(np.where(business, 0.5, 2.0) * months)
    who = np.repeat(np.arange(n), k)
    rows.add(len(who), account=who, ts=_times(rng, len(who), days, (7, 23)),
             amount=rng.choice([20, 40, 60, 100, 200, 300, 400], len(who)), channel=cash,
             direction=1, location=home_loc[who])
    k = rng.poisson(np.where(business, 0, 0.3) * months)
    who = np.repeat(np.arange(n), k)
    rows.add(len(who), account=who, ts=_times(rng, len(who), days, (9, 17)),
             amount=rng.uniform(50, 2500, len(who)), channel=cash, direction=0,
             location=home_loc[who])
    # person-to-person transfers, mostly to other customers
    k = rng.poisson(np.where(business, 0, 1.5) * months)
    who = np.repeat(np.arange(n), k)
    to = rng.choice(persons, len(who))
    ts = _times(rng, len(who), days)
    amount = np.round(rng.lognormal(np.log(60), 0.9, len(who)), 2)
    tr = CHANNELS.index("transfer")
    rows.add(len(who), account=who, ts=ts, amount=amount, channel=tr, direction=1,
             counterparty=to, country=0)
    rows.add(len(who), account=to, ts=ts + 1, amount=amount, channel=tr, direction=0,
             counterparty=who, country=0)
    # migrants remit home monthly (some to a high-risk country, once a month)
    remitter = normal[rng.random(len(normal)) < 0.08]
    dest = np.array([COUNTRIES.index(c) for c in REMIT_TO])[rng.integers(0, len(REMIT_TO),
                                                                        len(remitter))]
    risky = rng.random(len(remitter)) < 0.04
    dest = np.where(risky, COUNTRIES.index("MM"), dest)
    for m in range(months):
        ts = (m * 30 + rng.integers(26, 30, len(remitter))) * DAY + rng.integers(9, 19,
                                                                               len(remitter)) * 3600
        rows.add(len(remitter), account=remitter, ts=ts, amount=rng.uniform(100, 800,
                 len(remitter)), channel=np.where(rng.random(len(remitter)) < .5,
                                                  CHANNELS.index("wire"), CHANNELS.index("msb")),
                 direction=1, counterparty=rng.choice(ext["abroad"], len(remitter)), country=dest)
    # someone sells a sofa on a classified site; someone buys prepaid gift cards
    seller = persons[rng.random(len(persons)) < 0.004]
    site = len(merchants) - 1  # the domestic example site
    for _ in range(2):
        rows.add(len(seller), account=seller, ts=_times(rng, len(seller), days),
                 amount=rng.uniform(5, 40, len(seller)), channel=card, direction=1,
                 merchant=site, mcc=MCC_VOCAB.index("7399"), country=0)
    _business_background(rows, rng, n, days, business, btype, home_loc, employees, opens,
                         closes, ext, no_ach)


def _business_background(rows: _Rows, rng: np.random.Generator, n: int, days: int,
                         business: np.ndarray, btype: np.ndarray, home_loc: np.ndarray,
                         employees: np.ndarray, opens: np.ndarray, closes: np.ndarray,
                         ext: dict[str, np.ndarray], no_ach: set[int]) -> None:
    months = days // 30
    ach, card, cash = CHANNELS.index("ach"), CHANNELS.index("card"), CHANNELS.index("cash")
    firms = np.flatnonzero(business)
    # monthly turnover grows with the staff, so payroll is a steady share of it
    size = np.maximum(employees, 1) * 5000 * rng.lognormal(0, 0.4, n)
    # card settlements from acquirers (daily-ish)
    k = rng.poisson(np.where(business, 20, 0) * months)
    who = np.repeat(np.arange(n), k)
    who = who[~np.isin(who, list(no_ach))]  # a front company takes cash only
    rows.add(len(who), account=who, ts=_times(rng, len(who), days, (5, 6)),
             amount=size[who] / 20 * rng.uniform(.5, 1.5, len(who)), channel=ach, direction=0,
             counterparty=rng.choice(ext["acquirer"], len(who)), country=0)
    # cash takings of cash businesses, deposited at the home branch (bars at night)
    cashy = np.isin(btype, [i for i, t in enumerate(BUSINESS_TYPES) if t in CASH_BUSINESSES])
    k = rng.poisson(np.where(cashy, 8, 0) * months)
    who = np.repeat(np.arange(n), k)
    hours = np.where(btype[who] == BUSINESS_TYPES.index("bar"), rng.uniform(0, 2.5, len(who)),
                     rng.uniform(10, 17.5, len(who)))
    ts = rng.integers(0, days, len(who)) * DAY + (hours * 3600).astype(np.int64)
    rows.add(len(who), account=who, ts=ts, amount=size[who] * 0.25 / 8 * rng.uniform(.5, 1.5,
             len(who)), channel=cash, direction=0, location=home_loc[who])
    # payroll to outside staff (inside staff are paid in the salary loop), suppliers, rent
    ach_firms = np.array([f for f in firms if f not in no_ach], dtype=np.int64)
    for m in range(months):
        staff = np.maximum(0, employees[ach_firms] - 1)
        who = np.repeat(ach_firms, staff)
        ts = (m * 30 + 25) * DAY + 9 * 3600 + rng.integers(0, 3600, len(who))
        rows.add(len(who), account=who, ts=ts, amount=rng.lognormal(np.log(2600), .3, len(who)),
                 channel=ach, direction=1, counterparty=rng.choice(ext["people"], len(who)),
                 country=0, purpose=1)
        rows.add(len(ach_firms), account=ach_firms, ts=(m * 30 + 1) * DAY + 8 * 3600,
                 amount=size[ach_firms] * 0.08, channel=ach, direction=1,
                 counterparty=rng.choice(ext["landlord"], len(ach_firms)), country=0, purpose=2)
    k = rng.poisson(np.where(business, 10, 0) * months)
    who = np.repeat(np.arange(n), k)
    who = who[~np.isin(who, list(no_ach))]
    # a fifth of suppliers are customers of the bank too (business-to-business payments)
    supplier = np.where(rng.random(len(who)) < .2, rng.choice(firms, len(who)),
                        rng.choice(ext["supplier"], len(who)))
    amount = size[who] * 0.3 / 10 * rng.uniform(.3, 1.7, len(who))
    channel = np.where(rng.random(len(who)) < .8, ach, CHANNELS.index("wire"))
    ts = _times(rng, len(who), days, (8, 17))
    rows.add(len(who), account=who, ts=ts, amount=amount, channel=channel, direction=1,
             counterparty=supplier, country=0, purpose=3)
    inside = supplier < n
    rows.add(int(inside.sum()), account=supplier[inside], ts=ts[inside] + 1,
             amount=amount[inside], channel=channel[inside], direction=0,
             counterparty=who[inside], country=0, purpose=3)
    # business cards: consultants travel (hotels, car rental), restaurants buy food
    travel = btype == BUSINESS_TYPES.index("consulting")
    k = rng.poisson(np.where(travel, 3, 0) * months)
    who = np.repeat(np.arange(n), k)
    mcc = rng.choice([MCC_VOCAB.index("7011"), MCC_VOCAB.index("7512"), MCC_VOCAB.index("4511")],
                     len(who))
    rows.add(len(who), account=who, ts=_times(rng, len(who), days, night=0.1),
             amount=rng.uniform(80, 400, len(who)), channel=card, direction=1, mcc=mcc,
             merchant=mcc * 40 + rng.integers(0, 40, len(who)),
             location=rng.integers(0, len(LOCATIONS), len(who)), country=0)
    food = np.isin(btype, [BUSINESS_TYPES.index("restaurant"), BUSINESS_TYPES.index("bar")])
    k = rng.poisson(np.where(food, 6, 0) * months)
    who = np.repeat(np.arange(n), k)
    rows.add(len(who), account=who, ts=_times(rng, len(who), days, (6, 11)),
             amount=rng.uniform(100, 900, len(who)), channel=card, direction=1,
             mcc=MCC_VOCAB.index("5411"), merchant=MCC_VOCAB.index("5411") * 40,
             location=home_loc[who], country=0)


def _day(rng: np.random.Generator, month: int, hour: float | None = None) -> int:
    h = rng.uniform(9, 17) if hour is None else hour
    return int((month * 30 + rng.integers(0, 28)) * DAY + h * 3600)


def _structuring(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
                 home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    bank.truth["structuring"].add(who)
    first = int(rng.integers(0, max(1, days // 30 - 2)))
    for m in range(first, min(first + 3, days // 30)):
        for _ in range(int(rng.integers(3, 6))):
            rows.one(who, _day(rng, m), float(rng.uniform(9000, 9990)), "cash", "in",
                     location=int(home[who]))
        t = _day(rng, m)
        for j in range(int(rng.integers(2, 4))):
            rows.one(who, t + j * 1800, float(rng.uniform(4000, 8000)), "cash", "in",
                     location=int(home[who]))


def _wage_collection(rows: _Rows, rng: np.random.Generator, spec: Any, bank: Bank, ext: Any,
                     home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    controller, victims, direct = spec
    n = bank_n(bank, ext)
    bank.truth["wage_collection"].update([controller, *victims, *direct])
    employer = int(rng.choice(ext["employer"]))
    address = f"address {controller} shared lodging"
    bank.identifiers += [(v, "address", address) for v in [controller, *victims, *direct]]
    bank.identifiers += [(v, "phone", f"+1555{controller:07d}") for v in victims]
    for m in range(days // 30):
        for v in victims:
            t = (m * 30 + 25) * DAY + 10 * 3600
            wage = float(rng.uniform(1400, 2200))
            rows.transfer(employer, v, t, wage, "ach", n, purpose="SALA")
            rows.transfer(v, controller, t + int(rng.uniform(1, 20) * 3600),
                          round(wage * float(rng.uniform(.7, .9)), 2), "transfer", n)
        for j in range(len(direct)):
            rows.transfer(int(ext["employer"][(employer + j + 1) % len(ext["employer"])]),
                          controller, (m * 30 + 25) * DAY + 11 * 3600,
                          float(rng.uniform(1400, 2200)), "ach", n, purpose="SALA")
        for _ in range(int(rng.integers(2, 4))):
            rows.one(controller, _day(rng, m), float(rng.uniform(500, 3000)), "cash", "out",
                     location=int(home[controller]))
        # pays drivers and recruiters: many small transfers in one week
        week = (m * 30 + 3) * DAY
        for k in range(int(rng.integers(8, 12))):
            rows.transfer(controller, int(ext["sink"][k]), week + k * 20_000,
                          float(rng.uniform(60, 300)), "transfer", n)


def bank_n(bank: Bank, ext: Any) -> int:
    """How many customers: external accounts are numbered from there."""
    return int(min(ext["employer"]))


def _front_company(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
                   home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    bank.truth["front_company"].add(who)
    for m in range(days // 30):
        for _ in range(int(rng.integers(20, 30))):
            late = rng.random() < 0.5
            rows.one(who, _day(rng, m, rng.uniform(21, 23.5) if late else None),
                     float(rng.uniform(1000, 3000)), "cash", "in", location=int(home[who]))
        for _ in range(int(rng.integers(4, 7))):
            mcc = str(rng.choice(["7011", "7512", "4121", "5912"]))
            rows.one(who, _day(rng, m, rng.uniform(22, 27) % 24), float(rng.uniform(90, 350)),
                     "card", "out", mcc=mcc, merchant=MCC_VOCAB.index(mcc) * 40 + 7,
                     country="US")
        for mcc in ("5651", "8011", "5411", "4111", "7011"):
            for _ in range(2):
                rows.one(who, _day(rng, m), float(rng.uniform(30, 200)), "card", "out", mcc=mcc,
                         merchant=MCC_VOCAB.index(mcc) * 40 + 3, country="US")
        for _ in range(int(rng.integers(4, 7))):
            site = int(rng.integers(0, 3))
            rows.one(who, _day(rng, m), float(rng.uniform(20, 150)), "card", "out",
                     merchant=len(merchants) - len(AD_SITES) + site,
                     country=AD_SITES[site][1], mcc="7399")


def _sex_ads(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
             home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    bank.truth["sex_ads"].add(who)
    for m in range(days // 30):
        for _ in range(int(rng.integers(5, 10))):
            site = int(rng.integers(0, 3))
            rows.one(who, _day(rng, m, rng.uniform(0, 24)), float(rng.uniform(10, 120)), "card",
                     "out", merchant=len(merchants) - len(AD_SITES) + site,
                     country=AD_SITES[site][1], mcc="7399")
        for _ in range(int(rng.integers(4, 8))):
            rows.one(who, _day(rng, m), float(rng.uniform(50, 500)), "card", "out", mcc="6540",
                     merchant=MCC_VOCAB.index("6540") * 40 + 1, country="US")
        cities = rng.choice(len(LOCATIONS), 6, replace=False)
        for city in cities:
            t = _day(rng, m, 21)
            for room in range(3 if rng.random() < .6 else 1):
                rows.one(who, t + room * 300, float(rng.uniform(70, 160)), "card", "out",
                         mcc="7011", merchant=MCC_VOCAB.index("7011") * 40 + room,
                         location=int(city), country="US")
            rows.one(who, t + 4000, float(rng.uniform(10, 60)), "card", "out", mcc="5411",
                     merchant=MCC_VOCAB.index("5411") * 40 + 5, location=int(city), country="US")


def _funnel(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
            home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    bank.truth["funnel"].add(who)
    first = int(rng.integers(0, max(1, days // 30 - 2)))
    for m in range(first, min(first + 3, days // 30)):
        for _ in range(int(rng.integers(4, 8))):
            t = _day(rng, m)
            dep = int(rng.integers(0, len(LOCATIONS) - 8))
            amount = float(rng.uniform(1500, 6000))
            rows.one(who, t, amount, "cash", "in", location=dep)
            rows.one(who, t + int(rng.uniform(2, 30) * 3600), round(amount * .95, -1), "cash",
                     "out", location=(dep + 8 + int(rng.integers(0, 8))) % len(LOCATIONS))


def _round_tripping(rows: _Rows, rng: np.random.Generator, ring: list[int], bank: Bank,
                    ext: Any, home: np.ndarray, days: int, merchants: list[str],
                    observed: Any) -> None:
    bank.truth["round_tripping"].update(ring)
    n = bank_n(bank, ext)
    for _ in range(2):
        t = _day(rng, int(rng.integers(0, max(1, days // 30 - 1))))
        amount = float(rng.uniform(20000, 80000))
        for i, src in enumerate(ring):
            dst = ring[(i + 1) % len(ring)]
            rows.transfer(src, dst, t, round(amount, 2), "wire", n, purpose="GDDS")
            t += int(rng.uniform(1, 4) * DAY)
            amount *= float(rng.uniform(.95, .98))


def _layering(rows: _Rows, rng: np.random.Generator, spec: Any, bank: Bank, ext: Any,
              home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    source, mules, sink = spec
    bank.truth["layering"].update([source, sink, *mules])
    n = bank_n(bank, ext)
    for _ in range(2):
        t = _day(rng, int(rng.integers(0, days // 30)))
        for mule in mules:
            amount = float(rng.uniform(2000, 9000))
            rows.transfer(source, mule, t, amount, "transfer", n)
            rows.transfer(mule, sink, t + int(rng.uniform(2, 48) * 3600),
                          round(amount * float(rng.uniform(.85, .95)), 2), "transfer", n)


def _alternative_payments(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
                          home: np.ndarray, days: int, merchants: list[str],
                          observed: Any) -> None:
    bank.truth["alternative_payments"].add(who)
    bank.lists.setdefault("darknet_wallets", [])
    wallets = [int(w) for w in ext["wallet"][:6]]
    bank.lists["darknet_wallets"] = sorted(set(bank.lists["darknet_wallets"]) | set(wallets))
    for m in range(days // 30):
        for _ in range(int(rng.integers(5, 9))):
            rows.one(who, _day(rng, m), float(rng.uniform(40, 400)), "prepaid", "out",
                     mcc="6540", merchant=MCC_VOCAB.index("6540") * 40 + 2)
        for _ in range(int(rng.integers(2, 4))):
            rows.one(who, _day(rng, m), float(rng.uniform(100, 900)), "crypto", "out",
                     counterparty=int(rng.choice(wallets)))
        for _ in range(int(rng.integers(5, 8))):
            rows.one(who, _day(rng, m), float(rng.uniform(50, 600)), "msb", "out",
                     mcc="4829", merchant=MCC_VOCAB.index("4829") * 40)


def _recruitment_fees(rows: _Rows, rng: np.random.Generator, payers: list[int], bank: Bank,
                      ext: Any, home: np.ndarray, days: int, merchants: list[str],
                      observed: Any) -> None:
    bank.truth["recruitment_fees"].update(payers)
    agency = int(rng.choice(ext["agency"][:3]))
    bank.lists["recruitment_agencies"] = sorted(set(bank.lists.get("recruitment_agencies", []))
                                                | {agency})
    n = bank_n(bank, ext)
    for p in payers:
        for _ in range(int(rng.integers(1, 3))):
            rows.transfer(p, agency, _day(rng, int(rng.integers(0, days // 30))),
                          float(rng.uniform(500, 2000)), "wire", n)


def _ad_identifiers(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
                    home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    bank.truth["ad_identifiers"].add(who)
    phone = f"+1555{who + 5_000_000:07d}"
    bank.identifiers.append((who, "phone", phone))
    bank.lists.setdefault("ad_identifiers", []).append(("phone", phone))


def _escorted_customer(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
                       home: np.ndarray, days: int, merchants: list[str],
                       observed: Any) -> None:
    bank.truth["escorted_customer"].add(who)
    observed[who] = True
    n = bank_n(bank, ext)
    for m in range(days // 30):
        rows.transfer(who, int(rng.choice(ext["abroad"])), _day(rng, m),
                      float(rng.uniform(800, 1800)), "wire", n, country="GT")


def _high_risk_wires(rows: _Rows, rng: np.random.Generator, who: int, bank: Bank, ext: Any,
                     home: np.ndarray, days: int, merchants: list[str], observed: Any) -> None:
    bank.truth["high_risk_wires"].add(who)
    n = bank_n(bank, ext)
    first = int(rng.integers(0, max(1, days // 30 - 1)))
    for m in range(first, min(first + 2, days // 30)):
        for _ in range(int(rng.integers(3, 6))):
            rows.transfer(who, int(rng.choice(ext["abroad"])), _day(rng, m),
                          float(rng.uniform(1000, 5000)), "wire", n,
                          country=str(rng.choice(HIGH_RISK)))


_INJECT: dict[str, Any] = {"structuring": _structuring, "wage_collection": _wage_collection,
           "front_company": _front_company, "sex_ads": _sex_ads, "funnel": _funnel,
           "round_tripping": _round_tripping, "layering": _layering,
           "alternative_payments": _alternative_payments, "recruitment_fees": _recruitment_fees,
           "ad_identifiers": _ad_identifiers, "escorted_customer": _escorted_customer,
           "high_risk_wires": _high_risk_wires}


def _households(bank: Bank, rng: np.random.Generator, n: int, party: np.ndarray,
                plan: dict[str, Any]) -> None:
    """Every customer has a phone, e-mail, address and device; households of one to four
    share an address (and sometimes a device), which must not look like a trafficking ring."""
    used_address = {p for p, kind, _ in bank.identifiers if kind == "address"}
    used_phone = {p for p, kind, _ in bank.identifiers if kind == "phone"}
    order = rng.permutation(n)
    i = 0
    while i < n:
        size = int(rng.choice([1, 1, 2, 2, 3, 4]))
        members = [int(x) for x in order[i:i + size]]
        i += size
        address = f"{members[0]} main street"
        device = f"device-{members[0]}"
        for member in members:
            if member not in used_address:
                bank.identifiers.append((member, "address", address))
            if member not in used_phone:
                bank.identifiers.append((member, "phone", f"+1444{member:07d}"))
            bank.identifiers.append((member, "email", f"user{member}@example.org"))
            bank.identifiers.append((member, "device_id", device if rng.random() < .5
                                     else f"device-{member}"))


def lists_for_rules(bank: Bank) -> dict[str, Any]:
    """The reference lists in the shape ``detect.load_lists`` takes (references = index + 1)."""
    return {
        "countries": {"high_risk_countries": list(HIGH_RISK)},
        "merchants": {"ad_sites": [(site.split("*")[0].lower(), country)
                                   for site, country in AD_SITES]},
        "refs": {name: [i + 1 for i in bank.lists.get(name, [])]
                 for name in ("recruitment_agencies", "darknet_wallets")},
        "identifiers": {"ad_identifiers": [value for _, value in
                                           bank.lists.get("ad_identifiers", [])]},
    }


def evaluate(bank: Bank, alerts: list[Any], rules: Any,
             ref_of: Any = None) -> dict[str, Any]:
    """Per-typology recall and precision of the alerts against the ground truth.

    For typology T, A_T = alerted accounts on which at least one rule serving T fired (the
    rule file's ``typologies``). recall = |truth_T and A_T| / |truth_T|; precision =
    |truth_T and A_T| / |A_T|. Overall precision counts an alert true when its account is in
    any typology's truth. References are index + 1 (``Bank.analytic``) unless ``ref_of`` maps
    an account index to the reference a store gave it."""
    ref_of = ref_of or (lambda index: index + 1)
    serving: dict[str, set[str]] = {}
    for rule in rules.running:
        for typology in rule.typologies:
            serving.setdefault(typology, set()).add(rule.id)
    truth = {t: {ref_of(i) for i in members} for t, members in bank.truth.items()}
    everyone = set().union(*truth.values()) if truth else set()
    alerted = {a.account: set(a.rules) for a in alerts}
    per: dict[str, dict[str, float]] = {}
    for typology, members in sorted(truth.items()):
        found = {acct for acct, fired in alerted.items() if fired & serving.get(typology, set())}
        hit = len(members & found)
        per[typology] = {"accounts": len(members), "recall": hit / len(members) if members else 0,
                         "precision": hit / len(found) if found else 0.0,
                         "alerted_by_its_rules": len(found)}
    customers = len(bank.customers["type"])
    true_alerts = len(set(alerted) & everyone)
    return {"typologies": per, "alerts": len(alerted), "customers": customers,
            "alerts_per_10k": 10_000 * len(alerted) / customers if customers else 0.0,
            "precision_any": true_alerts / len(alerted) if alerted else 0.0,
            "recall_any": true_alerts / len(everyone) if everyone else 0.0}
