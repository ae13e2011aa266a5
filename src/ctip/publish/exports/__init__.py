"""File exports of published (already disclosure-controlled) tables: SDMX-CSV for SDG 16.2.2,
XLSX in the UNODC questionnaire layout, CTDC-layout microdata, and the Frictionless data package.

Every function takes frames that have already passed disclosure control and writes through
``ctip.ingest.writers`` (formula-injection safe). Nothing here decides what is safe to publish.
"""
