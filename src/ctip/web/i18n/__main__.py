"""Extract interface text and update the catalogues: ``python -m ctip.web.i18n extract``.

Babel's own extractors do the work (``jinja2.ext.babel_extract`` for templates, Babel's Python
extractor for page code); code-list labels, the ILO indicator texts and the messages of the
service modules in ``SERVICE_MESSAGES`` (their literal message and hint templates, which the
pages show translated) are added too, since people read them on every form. Existing
translations are kept (Babel's ``Catalog.update``); new strings arrive untranslated and the
catalogue test lists them. English
is the source language: its catalogue is filled with the msgids themselves, so every language,
English too, has a non-empty ``msgstr`` for every ``msgid``.

After merging branches that add strings: run ``python -m ctip.web.i18n extract``; take the
translations the other branch made with ``python -m ctip.web.i18n adopt LOCALE OTHER.po`` (it
fills only entries still empty here, e.g. from ``git show BRANCH:src/ctip/web/i18n/fr/LC_MESSAGES/
messages.po``); then translate what ``python -m ctip.web.i18n missing`` still lists per language,
and run ``tests/web/test_pages_i18n.py``.
"""

from __future__ import annotations

import ast
import copy
import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ctip.domain import screening
from ctip.domain.vocabulary import code_list, code_list_names
from ctip.web.i18n import DOMAIN, LOCALES

HERE = Path(__file__).resolve().parent
WEB = HERE.parent
# code lists whose labels appear in the web forms
FORM_CODE_LISTS = ("sex", "exploitation_form", "disability_status", "identification_status")
# service and domain modules whose error messages and hints reach the pages (error page,
# account forms, the case page's actions, review and follow-up pages) or the CLI
SERVICE_MESSAGES = ("services/accounts.py", "services/account_changes.py", "domain/access.py",
                    "services/referrals.py", "domain/nrm.py", "services/case_workflow.py",
                    "services/protection.py",
                    "services/evidence.py", "services/evidence_bundle.py",
                    "services/review.py", "domain/review.py",
                    "services/followup.py", "services/followup_gsi.py",
                    "services/followup_ledgers.py", "followup/catalogue.py", "followup/cycles.py",
                    "followup/rules.py", "followup/treaties.py",
                    "services/exchange_directory.py", "exchange/directory.py",
                    "exchange/verify.py", "services/timestamping.py", "services/reporting.py",
                    "services/backup.py",
                    "services/ads.py", "services/ads_export.py", "ads/classify.py",
                    "services/supply.py", "domain/supply.py", "supply/entities.py",
                    "supply/purchases.py", "supply/reference.py",
                    "services/finflows.py", "finflows/camt053.py", "finflows/readers.py",
                    "finflows/rules.py",
                    "services/linkage.py", "services/linkage_review.py",
                    "ingest/readers.py", "services/importing.py",
                    "services/publishing.py", "publish/dp.py", "publish/kanon.py",
                    "publish/suppression.py")


def review_queue_kinds() -> list[Any]:
    """Every registered review queue kind (their modules register them when imported)."""
    import ctip.domain.ads_queue
    import ctip.domain.linkage_queue
    import ctip.domain.supply
    import ctip.services.finflows  # noqa: F401 - registers the financial-flow alerts queue
    from ctip.domain.review import QUEUES

    return [QUEUES[name] for name in sorted(QUEUES)]


def service_messages(path: Path) -> list[tuple[int, str]]:
    """The literal message (first argument) and ``hint=`` of every ``...Error(...)`` raised in
    a module, and the text of every ``Phrase(...)`` (a guard's reason an error quotes). A message
    quoting values is a template (``"a case in state {status} ..."`` with ``params=``), so it is
    extracted as written; an f-string cannot be, and is skipped."""
    found: list[tuple[int, str]] = []
    for node, texts in message_calls(ast.parse(path.read_text(encoding="utf-8"))):
        for text in texts:
            if isinstance(text, ast.Constant) and isinstance(text.value, str) and text.value:
                found.append((node.lineno, text.value))
    return found


def message_calls(tree: ast.Module) -> list[tuple[ast.Call, list[ast.expr]]]:
    """Every call of an error class (a name ending in ``Error``, or a name a ``ctip.errors``
    class is imported as: ``ValidationError as Invalid``) or of ``Phrase``, with its message
    (first argument) and ``hint=`` expressions. A message passed by a name the module only ever
    binds to literal texts (``_FAILED = "..."``, ``ended = "your session has ended"``) stands
    for those texts."""
    aliases = {alias.asname for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and node.module == "ctip.errors"
               for alias in node.names if alias.asname}
    bound: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    bound.setdefault(target.id, []).append(node.value)

    def literal(value: ast.expr) -> bool:
        return isinstance(value, ast.Constant) and (value.value is None
                                                    or isinstance(value.value, str))

    def resolved(text: ast.expr) -> list[ast.expr]:
        values = bound.get(text.id, []) if isinstance(text, ast.Name) else []
        if values and all(literal(v) for v in values):
            return [v for v in values if isinstance(v, ast.Constant) and v.value]
        return [text]

    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if not (name.endswith("Error") and name[:1].isupper()) and name != "Phrase" \
                and name not in aliases:
            continue
        if name == "MissingDependencyError":  # its arguments name a package and an extra
            continue
        texts = [node.args[0]] if node.args else []
        texts += [k.value for k in node.keywords if k.arg == "hint"]
        calls.append((node, [found for text in texts for found in resolved(text)]))
    return calls


def extract() -> Catalog:
    template = Catalog(project="ctip", domain=DOMAIN, charset="utf-8")
    # templates call _("text"); page code calls _(request, "text"), tr("text") and N_("text")
    runs: list[tuple[list[tuple[str, str]], dict[str, Any]]] = [
        ([("templates/**.html", "jinja2")], {"_": None, "gettext": None, "ngettext": (1, 2)}),
        ([("pages/**.py", "python")], {"_": (2,), "tr": None, "N_": None, "gettext": None}),
    ]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    for methods, keywords in runs:
        for filename, lineno, message, comments, context in extract_from_dir(
            str(WEB),
            method_map=methods,
            options_map=options,
            keywords=keywords,
        ):
            template.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    for relative in SERVICE_MESSAGES:
        for lineno, message in service_messages(WEB.parent / relative):
            template.add(message, None, [(relative, lineno)])
    for kind in review_queue_kinds():  # the caveat heading each review queue's pages
        if kind.caveat:
            template.add(kind.caveat, None, [(f"queue:{kind.name}", 0)])
    for profile in screening.PROFILES:
        for indicator in screening.indicators(profile):
            template.add(indicator.text, None, [("codelist:ilo_indicators", 0)])
    for name in FORM_CODE_LISTS:
        if name in code_list_names():
            for entry in code_list(name).entries:
                template.add(entry["label"], None, [(f"codelist:{name}", 0)])
    return template


def update(template: Catalog) -> None:
    with open(HERE / f"{DOMAIN}.pot", "wb") as out:
        write_po(out, template, omit_header=False, sort_output=True, width=100)
    for locale in LOCALES:
        path = HERE / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file():
            with open(path, "rb") as fh:
                catalog = read_po(fh, locale=locale, domain=DOMAIN)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project="ctip", charset="utf-8")
        # a copy: Catalog.update adopts the template's message objects, which the English fill
        # below would otherwise change for the languages that follow
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":  # the source language: each text is its own translation
            for message in catalog:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        with open(path, "wb") as out:
            write_po(out, catalog, sort_output=True, width=100, include_previous=False)


def missing(locale: str) -> list[str]:
    """The msgids of ``messages.pot`` without a (complete, non-fuzzy) translation in ``locale``."""
    with open(HERE / f"{DOMAIN}.pot", "rb") as fh:
        template = read_po(fh)
    with open(HERE / locale / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as fh:
        catalog = read_po(fh, locale=locale)
    out = []
    for entry in template:
        if not entry.id:
            continue
        found = catalog.get(entry.id)
        forms = () if found is None else (
            found.string if isinstance(found.string, tuple) else (found.string,))
        if found is None or found.fuzzy or not forms or not all(forms):
            out.append(entry.id if isinstance(entry.id, str) else entry.id[0])
    return out


def adopt(locale: str, other: Path) -> int:
    """Fill this catalogue's empty (or fuzzy) entries from another .po of the same language;
    entries translated here are kept. How many were filled."""
    path = HERE / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=locale)
    with open(other, "rb") as fh:
        theirs = read_po(fh, locale=locale)
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        found = theirs.get(message.id)
        if found is None or found.fuzzy or (all(forms) and not message.fuzzy):
            continue
        given = found.string if isinstance(found.string, tuple) else (found.string,)
        if given and all(given) and len(given) == len(forms):
            message.string = found.string
            message.flags.discard("fuzzy")
            filled += 1
    with open(path, "wb") as out:
        write_po(out, catalog, sort_output=True, width=100, include_previous=False)
    return filled


def main(argv: list[str]) -> int:
    if argv[:1] == ["adopt"] and len(argv) == 3 and argv[1] in LOCALES:
        print(f"{argv[1]}: {adopt(argv[1], Path(argv[2]))} entries filled")
        return 0
    if argv[:1] == ["extract"]:
        update(extract())
        return 0
    if argv[:1] == ["missing"]:
        total = 0
        for locale in LOCALES:
            gaps = missing(locale)
            total += len(gaps)
            for text in gaps:
                print(f"{locale}\t{text}")
        return 1 if total else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
