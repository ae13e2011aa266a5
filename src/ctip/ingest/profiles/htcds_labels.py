"""HTCDS v2.0 picklist labels -> value names, from IOM's field standards (HTCDS Field Standards
2.0, "Value Labels" beside "Value Names"; CC BY 4.0). IOM's Excel template offers the labels
("Actual victim of trafficking") in its validation lists while the standard's names
("ActualVictimOfTrafficking") are what the code lists know, so a filled-in template is read
through this table. Kept as data here (not read from the spreadsheet at run time) so the profile
needs no file beside the package; tests/ingest/test_htcds_template.py checks every value of the
shared workbooks' validation lists against it.

Also the labels of the template's list of countries ("Korea, Republic of") contain the comma
that separates the values of a multiselect cell: ``split_known`` splits a cell only where the
pieces are known values, longest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable

LABELS: dict[str, dict[str, str]] = {
    "prs_gender": {
        'Feminine': 'Feminine',
        'Masculine': 'Masculine',
        'Transgender Feminine': 'TransgenderFeminine',
        'Transgender Masculine': 'TransgenderMasculine',
        'Non-Conforming': 'NonConforming',
        'Not Specified/Unknown': 'NonSpecifiedUnknown',
    },
    "vic_traffickingstatus": {
        'Possible victim of trafficking': 'PossibleVictimOfTrafficking',
        'Actual victim of trafficking': 'ActualVictimOfTrafficking',
        'Not a victim of trafficking': 'NotAVictimOfTrafficking',
    },
    "vic_traffickingstatusdecisionmakingorg": {
        'Police': 'Police',
        'NGO': 'NGO',
        'Court or prosecution': 'CourtOrProsecution',
        'Non-police governmental organization': 'NonPoliceGovernmentalOrganization',
        'Other': 'Other',
    },
    "vic_relationshiptotrafficker": {
        'Familial': 'Familial',
        'Acquainted': 'Acquainted',
        'Unaquainted': 'Unaquainted',
    },
    "vic_methodsofcontrol": {
        'Physical threats': 'PhysicalThreats',
        'Threats of law enforcement': 'ThreatsLawEnforcement',
        'Threatens children/family': 'ThreatensChildrenFamily',
        'Debt bondage': 'DebtBondage',
        'False promises': 'FalsePromises',
        'Physical abuse': 'PhysicalAbuse',
        'Sexual abuse': 'SexualAbuse',
        'Takes earnings': 'TakesEarnings',
        'Restricts financial access': 'RestrictsFinancialAccess',
        'Restricts medical care': 'RestrictsMedicalCare',
        'Withholds necessities': 'WithholdsNecessities',
        'Psychological abuse': 'PsychologicalAbuse',
        'Psychoactive substance': 'PsychoactiveSubstance',
        'Excessive working hours': 'ExcessiveWorkingHours',
        'Withholds documents': 'WithholdsDocuments',
        'Other': 'Other',
    },
    "vic_typeofexploitation": {
        'Forced labour': 'ForcedLabour',
        'Sexual exploitation': 'SexualExploitation',
        'Child labour': 'ChildLabour',
        'Forced marriage': 'ForcedMarriage',
        'Servitude': 'Servitude',
        'Forced military (by non-state actors)': 'ForcedMilitaryByNonStateActors',
        'Organ removal': 'OrganRemoval',
        'Forced begging': 'ForcedBegging',
        'Forced adoption': 'ForcedAdoption',
        'Surrogacy': 'Surrogacy',
        'Other': 'Other',
    },
    "vic_forcedlabourindustry": {
        'Agriculture, forestry and fishing': 'A_AgricultureForestryAndFishing',
        'Mining and quarrying': 'B_MiningAndQuarrying',
        'Manufacturing': 'C_Manufacturing',
        'Electricity, gas, steam and air conditioning supply':
            'D_ElectricityGasSteamAndAirConditioningSupply',
        'Water supply; sewerage, waste management and remediation':
            'E_WaterSupplySewerageWasteManagement',
        'Construction': 'F_Construction',
        'Wholesale and retail trade; repair of motor vehicles and motorcycles':
            'G_WholesaleAndRetailTradeRepairOfMotorVehicles',
        'Transportation and storage': 'H_TransportationAndStorage',
        'Accommodation and food service activities': 'I_AccommodationAndFoodServiceActivities',
        'Information and communication': 'J_InformationAndCommunication',
        'Financial and insurance activities': 'K_FinancialAndInsuranceActivities',
        'Real estate activities': 'L_RealEstateActivities',
        'Professional, scientific and technical activities':
            'M_ProfessionalScientificAndTechnicalActivities',
        'Administrative and support service activities':
            'N_AdministrativeAndSupportServiceActivities',
        'Public administration and defence; compulsory social security':
            'O_PublicAdministrationAndDefence',
        'Education': 'P_Education',
        'Human health and social work activities': 'Q_HumanHealthAndSocialWorkActivities',
        'Arts, entertainment and recreation': 'R_ArtsEntertainmentAndRecreation',
        'Other service activities': 'S_OtherServiceActivities',
        ('Activities of households as employers; undifferentiated goods- and services- producing '
         'activities of households for own use'):
            'T_ActivitiesOfHouseholdsAsEmployers',
        'Activities of extraterritorial organizations and bodies':
            'U_ActivitiesOfExtraterritorialOrganizations',
    },
    "vic_typeofsexexploitation": {
        'Prostitution': 'Prostitution',
        'Pornography': 'Pornography',
        'Remote Interactive Services': 'RemoteInteractiveServices',
        'Private Sexual Services': 'PrivateSexualServices',
    },
}

# the decision-making organisation column is spelt without the second "g" in IOM's template
LABELS["vic_traffickinstatusdecisionmakingorg"] = LABELS["vic_traffickingstatusdecisionmakingorg"]


def label_key(text: str) -> str:
    """Labels compare whatever their case, spacing or no-break spaces ("Debt bondage ")."""
    return " ".join(text.replace("\xa0", " ").split()).casefold()


_BY_KEY = {column: {label_key(k): v for k, v in table.items()} for column, table in
           LABELS.items()}


def name_of(column: str, text: str) -> str | None:
    """The HTCDS value name of a picklist label of ``column``, or None when it is not a label."""
    return _BY_KEY.get(column, {}).get(label_key(text))


_SEPARATORS = re.compile(r"([;,])")
_MAX_PIECES = 4  # the longest label has 2 separators: bounded work on a cell of many commas


def split_known(value: str, known: Callable[[str], str | None]) -> list[str]:
    """Split a multiselect cell at ``;`` or ``,``, keeping together the pieces that form one
    known value ("Agriculture, forestry and fishing"), longest first. ``known`` maps a piece to
    its value or None; an unknown piece is returned as it is, for the parser to reject."""
    tokens = _SEPARATORS.split(value)
    texts = tokens[0::2]  # the pieces between separators
    out: list[str] = []
    i = 0
    while i < len(texts):
        for j in range(min(len(texts), i + _MAX_PIECES), i, -1):
            piece = "".join(tokens[2 * i:2 * j - 1]).strip()
            hit = known(piece) if piece else None
            if hit is not None:
                out.append(hit)
                i = j
                break
        else:
            if texts[i].strip():
                out.append(texts[i].strip())
            i += 1
    return out


# The fields' labels (HTCDS Field Standards 2.0, "Field Label"): IOM's template has a row of them
# under the row of field names, which is a caption, not a case.
FIELD_LABELS: frozenset[str] = frozenset(label_key(text) for text in (
    'Action Plan', 'Actual End Date', 'Age when Trafficked', 'Agreement to Manage Personal Data',
    'Birthdate', 'Case Comment', 'Case Owner', 'Citizenship', 'City', 'Consent', 'Country', 'Date',
    'Deceased', 'Description', 'Details Of Vulnerabilities',
    'EXAMPLE QUESTION Is preferential treatment or discrimination in the household a risk '
    'factor in this context?',
    'EXAMPLE QUESTION Is the Individual’s age a risk factor in this context?',
    'EXAMPLE QUESTION Is the Individual’s nationality, race or ethnicity a risk factor in '
    'this context?',
    'EXAMPLE QUESTION Is the Individual’s sexual orientation a risk factor in this context?',
    "EXAMPLE QUESTION Is the community's ability to implement local governance or "
    'collective action a risk factor in this context?',
    "EXAMPLE QUESTION Is the community's access to appropriate law enforcement a risk "
    'factor in this context?',
    "EXAMPLE QUESTION Is the community's access to education services a risk factor in this "
    'context?',
    'EXAMPLE QUESTION Is the household source of income a risk factor in this context?',
    'EXAMPLE QUESTION Is violence or abuse in the household a risk factor in this context?',
    'Email', 'Exploitation Websites and Apps', 'First Name', 'Forced Labour Industry', 'Gender',
    'Highest Level of Education', 'Home Phone', 'Identity Number', 'Incoming Referral Date',
    'Incoming Referral Details', 'Latitude', 'Location of Exploitation', 'Location of Recruitment',
    'Longitude', 'Mailing City', 'Mailing Country', 'Mailing State/Province', 'Mailing Street',
    'Mailing Zip/Postal Code', 'Marital Status', 'Method of Recruitment', 'Methods of Control',
    'Middle Name', 'Mobile Phone', 'Number of Children', 'Objectives', 'Organisation Name',
    'Outgoing Referral Date', 'Outgoing Referral Details', 'Phone', 'Planned End Date',
    'PostalCode', 'Primary Language', 'Reason for Case Closure', 'Reason for Incoming Referral',
    'Reason for Outgoing Referral', 'Recruitment Websites and Apps', 'Referred Organisation',
    'Referred Primary Case Worker', 'Referring Organisation', 'Referring Primary Case Worker',
    'Relationship to Trafficker', 'Role Details', 'Role in Process', 'Salutation', 'Second Name',
    'Secondary Language', 'Shipping City', 'Shipping Country', 'Shipping State/Province',
    'Shipping Street', 'Shipping Zip/Postal Code', 'State', 'Status', 'Street', 'Title',
    'Trafficking Status', 'Trafficking Status Decision Making Organization', 'Type',
    'Type of Exploitation', 'Type of Sex Exploitation', 'Vulnerabilities',
))
