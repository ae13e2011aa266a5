"""Extract interface text and update the catalogues: ``python -m ctip.web.i18n extract``.

Babel's own extractors do the work (``jinja2.ext.babel_extract`` for templates, Babel's Python
extractor for page code); code-list labels are added too, since people read them on every form.
Existing translations are kept (Babel's ``Catalog.update``); new strings arrive untranslated and
the catalogue test lists them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ctip.domain.vocabulary import code_list, code_list_names
from ctip.web.i18n import DOMAIN, LOCALES

HERE = Path(__file__).resolve().parent
WEB = HERE.parent
# code lists whose labels appear in the web forms
FORM_CODE_LISTS = ("sex", "exploitation_form", "disability_status", "identification_status")


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
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with open(path, "wb") as out:
            write_po(out, catalog, sort_output=True, width=100, include_previous=False)


def main(argv: list[str]) -> int:
    if argv[:1] != ["extract"]:
        print(__doc__)
        return 2
    update(extract())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
