"""The rule file as data: load, check and resolve ``rules.yaml`` (or a user's own file).

A rule is a row of the design's indicator table made explicit: id, version, source advisory and
the mark the design gave it, a paraphrased description (U-marked rules say UNVERIFIED PARAPHRASE
in their description and carry ``unverified: true``), window, thresholds, the fields it needs.
``$name`` values in ``where``/``having``/``scope`` are replaced by the rule's thresholds here, so
the SQL compiler (``detect``) sees plain numbers and every threshold is stated once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from ctip.errors import InputFileError, ValidationError

KINDS = ("aggregate", "peer", "pass_through", "collector", "funnel", "identifier_list",
         "scatter_gather", "cycle", "shared_identifiers", "intake")
WINDOWS = ("day", "week", "month")
WHERE_KEYS = {
    "channel", "direction", "purpose", "purpose_not", "mcc_category", "amount",
    "counterparty_country_in", "counterparty_abroad", "merchant_in", "merchant_abroad_in",
    "counterparty_in", "counterparty_known", "counterparty_hidden", "counterparty_internal",
    "counterparty_customer_type", "customer_type", "business_type_in", "business_type_not_in",
    "employees_gte", "observed", "outside_business_hours", "hours_between", "any",
}
HAVING_KEYS = {"count_gte", "sum_gte", "distinct", "absent", "share_gte", "ratio_to_peer_lte",
               "ratio_to_peer_gte", "denominator_gte", "numerator_gte", "peers_gte"}
MARKS_UNVERIFIED = "U"


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    title: str
    source: str
    mark: str
    description: str
    kind: str
    automatable: str
    unverified: bool = False
    window: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] | None = None
    absent: dict[str, Any] | None = None
    scope: dict[str, Any] = field(default_factory=dict)
    numerator: dict[str, Any] | None = None
    denominator: dict[str, Any] | None = None
    having: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    min_windows: int = 1
    weight: float = 1.0
    list: str | None = None
    required: tuple[str, ...] = ()
    typologies: tuple[str, ...] = ()
    serves: tuple[str, ...] = ()

    @property
    def runs(self) -> bool:
        """Intake-only rows of the table are documented, not run."""
        return self.kind != "intake"

    def lists_used(self) -> set[str]:
        names: set[str] = set()
        if self.list:
            names.add(self.list)

        def walk(clause: Any) -> None:
            if isinstance(clause, dict):
                for key, value in clause.items():
                    if key in ("counterparty_country_in", "merchant_in", "merchant_abroad_in",
                               "counterparty_in"):
                        names.add(value)
                    walk(value)
            elif isinstance(clause, list):
                for item in clause:
                    walk(item)

        walk([self.where, self.base, self.absent, self.scope, self.numerator, self.denominator])
        return names


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: str
    currency: str
    home_country: str
    alert_score: float
    sources: dict[str, dict[str, Any]]
    categories: dict[str, tuple[str, ...]]
    lists: dict[str, dict[str, Any]]
    rules: tuple[Rule, ...]
    digest: str  # SHA-256 of the file's bytes: which exact file a run used

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise ValidationError("there is no rule {rule_id}", column="rule",
                              allowed=", ".join(r.id for r in self.rules),
                              params={"rule_id": repr(rule_id)})

    @property
    def running(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.runs)

    def source_title(self, rule: Rule) -> str:
        return str(self.sources.get(rule.source, {}).get("title", rule.source))


def _resolve(value: Any, thresholds: dict[str, Any], where: str) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        name = value[1:]
        if name not in thresholds:
            raise ValidationError("{where} refers to ${name}, which is not in its thresholds",
                                  column="thresholds", params={"where": where, "name": name})
        return thresholds[name]
    if isinstance(value, dict):
        return {k: _resolve(v, thresholds, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, thresholds, where) for v in value]
    return value


def _check_where(clause: Any, rule_id: str, categories: dict[str, Any]) -> None:
    if clause is None:
        return
    if not isinstance(clause, dict):
        raise ValidationError("rule {rule_id}: a where clause must be a mapping", value=clause,
                              params={"rule_id": rule_id})
    unknown = set(clause) - WHERE_KEYS
    if unknown:
        raise ValidationError("rule {rule_id}: unknown where keys", value=sorted(unknown),
                              allowed=", ".join(sorted(WHERE_KEYS)), params={"rule_id": rule_id})
    for name in clause.get("mcc_category", []):
        if name not in categories:
            raise ValidationError("rule {rule_id}: unknown MCC category", value=name,
                                  allowed=", ".join(sorted(categories)),
                                  params={"rule_id": rule_id})
    for sub in clause.get("any", []):
        _check_where(sub, rule_id, categories)


def _rule(data: dict[str, Any], categories: dict[str, Any], sources: dict[str, Any]) -> Rule:
    rule_id = str(data.get("id") or "")
    for key in ("id", "version", "title", "source", "mark", "description", "kind"):
        if data.get(key) in (None, ""):
            raise ValidationError("rule {rule_id} has no {key}", column=key,
                                  params={"rule_id": rule_id or "?", "key": key})
    if data["kind"] not in KINDS:
        raise ValidationError("rule {rule_id}: unknown kind", value=data["kind"],
                              allowed=", ".join(KINDS), params={"rule_id": rule_id})
    if data["source"] not in sources:
        raise ValidationError("rule {rule_id}: unknown source", value=data["source"],
                              allowed=", ".join(sources), params={"rule_id": rule_id})
    unverified = bool(data.get("unverified", False))
    if MARKS_UNVERIFIED in str(data["mark"]).replace(";", " ").split() and not unverified:
        raise ValidationError("rule {rule_id} is marked U but not `unverified: true`",
                              column="unverified", params={"rule_id": rule_id})
    if unverified and "UNVERIFIED PARAPHRASE" not in str(data["description"]):
        raise ValidationError("rule {rule_id} is unverified: its description must say "
                              "UNVERIFIED PARAPHRASE", column="description",
                              params={"rule_id": rule_id})
    window = data.get("window")
    if window is not None and window not in WINDOWS:
        raise ValidationError("rule {rule_id}: unknown window", value=window,
                              allowed=", ".join(WINDOWS), params={"rule_id": rule_id})
    thresholds = dict(data.get("thresholds") or {})
    where_text = f"rule {rule_id}"
    resolved = {k: _resolve(data.get(k), thresholds, where_text)
                for k in ("where", "base", "absent", "scope", "numerator", "denominator",
                          "having", "min_windows")}
    for key in ("where", "base", "absent", "scope", "numerator", "denominator"):
        _check_where(resolved[key], rule_id, categories)
    unknown_having = set(resolved["having"] or {}) - HAVING_KEYS
    if unknown_having:
        raise ValidationError("rule {rule_id}: unknown having keys", value=sorted(unknown_having),
                              allowed=", ".join(sorted(HAVING_KEYS)), params={"rule_id": rule_id})
    if data["kind"] in ("aggregate", "peer") and not resolved["having"]:
        raise ValidationError("rule {rule_id}: an {kind} rule needs `having`",
                              params={"rule_id": rule_id, "kind": data["kind"]})
    if data["kind"] == "aggregate" and not resolved["where"]:
        raise ValidationError("rule {rule_id}: an aggregate rule needs `where`",
                              params={"rule_id": rule_id})
    return Rule(
        id=rule_id, version=int(data["version"]), title=str(data["title"]),
        source=str(data["source"]), mark=str(data["mark"]),
        description=" ".join(str(data["description"]).split()), kind=str(data["kind"]),
        automatable=str(data.get("automatable", "yes")), unverified=unverified, window=window,
        where=resolved["where"] or {}, base=resolved["base"], absent=resolved["absent"],
        scope=resolved["scope"] or {}, numerator=resolved["numerator"],
        denominator=resolved["denominator"], having=resolved["having"] or {},
        thresholds=thresholds, min_windows=int(resolved["min_windows"] or 1),
        weight=float(data.get("weight", 1.0)), list=data.get("list"),
        required=tuple(str(r) for r in data.get("required", ())),
        typologies=tuple(data.get("typologies", ())), serves=tuple(data.get("serves", ())),
    )


def parse_rules(text: bytes, *, source_name: str = "rules.yaml") -> RuleSet:
    """A checked rule set from the bytes of a rule file; a clear error names what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputFileError("{source_name} is not valid YAML: {error}",
                             hint="check the indentation near the line named",
                             params={"source_name": source_name, "error": error}) from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise InputFileError("{source_name} has no list of rules",
                             hint="start from the shipped rules.yaml (ctip finflows rules)",
                             params={"source_name": source_name})
    categories = {k: tuple(str(c) for c in v) for k, v in (data.get("categories") or {}).items()}
    sources = dict(data.get("sources") or {})
    rules = tuple(_rule(r, categories, sources) for r in data["rules"])
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValidationError("rule ids must be unique", column="id", value=duplicates)
    lists = dict(data.get("lists") or {})
    for rule in rules:
        for name in rule.lists_used():
            if name not in lists:
                raise ValidationError("rule {rule_id} uses the list {name}, which the file "
                                      "does not declare", column="lists",
                                      params={"rule_id": rule.id, "name": repr(name)})
    return RuleSet(
        name=str(data.get("name", "rules")), version=str(data.get("version", "0")),
        currency=str(data.get("currency", "USD")),
        home_country=str(data.get("home_country", "US")),
        alert_score=float(data.get("alert_score", 2)), sources=sources, categories=categories,
        lists=lists, rules=rules, digest=hashlib.sha256(text).hexdigest())


def shipped_rules_bytes() -> bytes:
    return resources.files("ctip.finflows").joinpath("rules.yaml").read_bytes()


def shipped_rules() -> RuleSet:
    return parse_rules(shipped_rules_bytes())


def shipped_list_bytes(name: str) -> bytes:
    return resources.files("ctip.finflows").joinpath("reference", name).read_bytes()
