"""The de-identified analytic view: the only shape statistics, linkage-free tables and exports read.

One row per stored victim record. No identity field is here, ever; the pseudonym is a keyed hash
that cannot be reversed without the pseudonym key. Multi-valued fields are lists; an unknown
multi-valued field is NULL, a known-empty one is an empty list (unknown is never "no").

storage/ builds it (``CaseStore.analytic_table``/DuckDB view ``victims``); stats/, publish/,
estimate/ and the report read it. Column name -> DuckDB type.
"""

from __future__ import annotations

ANALYTIC_COLUMNS: dict[str, str] = {
    "victim_id": "VARCHAR",            # internal UUID of the stored record
    "pseudonym": "VARCHAR",            # keyed HMAC of normalised name + date of birth (may be NULL)
    "agency": "VARCHAR",
    "agency_type": "VARCHAR",
    "source_record_id": "VARCHAR",
    "identification_date": "DATE",
    "identification_year": "INTEGER",
    "identification_status": "VARCHAR",
    "detected": "BOOLEAN",             # status counts as detected (domain.derive.is_detected)
    "sex": "VARCHAR",
    "gender_identity": "VARCHAR",
    "age": "INTEGER",                  # age at identification in years
    "age_group": "VARCHAR",            # '0-17', '18+', 'unknown'
    "victim_group": "VARCHAR",         # women, men, girls, boys, unknown
    "disability_status": "VARCHAR",
    "citizenships": "VARCHAR[]",
    "citizenship": "VARCHAR",          # first citizenship, or 'unknown'
    "country_of_detection": "VARCHAR",
    "countries_of_exploitation": "VARCHAR[]",
    "country_of_recruitment": "VARCHAR",
    "exploitation_forms": "VARCHAR[]",
    "primary_form": "VARCHAR",         # UNODC roll-up under the default rule (derive.primary_form)
    "labour_sector_isic": "VARCHAR[]",
    "sexual_exploitation_type": "VARCHAR[]",
    "means_of_control": "VARCHAR[]",
    "recruiter_relationship": "VARCHAR[]",
    "consent_statistical_use": "BOOLEAN",
    "consent_withdrawn": "BOOLEAN",
    "import_batch": "VARCHAR",
}

# One row per perpetrator x criminal-justice stage (GLOTIP Q2-Q4). DuckDB view ``perpetrators``.
PERPETRATOR_COLUMNS: dict[str, str] = {
    "perpetrator_id": "VARCHAR",
    "agency": "VARCHAR",
    "sex": "VARCHAR",
    "age": "INTEGER",
    "age_group": "VARCHAR",
    "citizenships": "VARCHAR[]",
    "citizenship": "VARCHAR",
    "roles": "VARCHAR[]",
    "stage": "VARCHAR",                # suspected, prosecuted, convicted, acquitted
    "stage_year": "INTEGER",
    "exploitation_forms": "VARCHAR[]",
}
