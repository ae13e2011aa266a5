"""National statistics over the de-identified analytic view: pure functions on DuckDB.

tables.py (victims and perpetrators by any breakdown), flows.py, sdg.py (SDG 16.2.2), quality.py,
registry.py (named tables for ``ctip stats``), glotip.py (UNODC's international data), charts.py
(report figures). Nothing here suppresses: services pass every published table through
``ctip.publish.suppression``.
"""
