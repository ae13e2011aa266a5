"""Supply-chain forced-labour risk screening (para 30): reference lists, screening, reports.

The maths layer of ``ctip supply``: the DOL List of Goods and users' entity lists as versioned
reference data (``reference``, ``entities``), purchase ledgers read with the read = accepted +
rejected promise (``purchases``), the screen itself on DuckDB (``screen``), name matching
(``names``), and outputs (``outputs``: report sections, XLSX, FollowTheMoney). A hit is sector and
geography risk, not an allegation.
"""
