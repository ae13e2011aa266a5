"""Follow the money (para 16): financial red flags and transaction networks.

Pure code over frames: canonical transactions and parties and their validation (``frames``),
readers for CSV with a column mapping and ISO 20022 camt.053 statements (``readers``,
``camt053``), the versioned rule file (``rules``, ``rules.yaml``), vectorised rules on DuckDB
(``detect``), graph patterns (``graph``), per-account scores (``score``), FollowTheMoney export
(``ftm``), the draft suspicious-activity report (``sar``), a network picture (``picture``) and a
seeded synthetic generator with ground truth (``synthetic``). Nothing here opens the case store;
account numbers and names reach this package only in the readers' output, which the service
seals before anything is stored, and the rules see keyed account references only.
"""
