"""Online recruitment: screening job ads for trafficking and scam-compound recruitment (para 28).

Pure code only (no SQL, no files, no network): ``records`` (the ad), ``readers`` (row mapping of
the EMSCAD/Kaggle and generic profiles, saved HTML pages), ``normalise`` (text a person reads and
the model sees), ``extract`` (identifiers, salary, fees, places, roles), ``indicators`` (R01-R14,
each with the span that fired it), ``classify`` (TF-IDF + logistic regression, calibrated),
``cluster`` (posters sharing identifiers or near-identical text), ``evaluate`` (cross-validation
grouped by company), ``export`` (CSV rows and FollowTheMoney entities), ``embeddings`` (optional
sentence embeddings), ``synthetic`` (labelled ads for tests and benchmarks, never for accuracy
claims). Storage is ``storage/ads.py``; the use cases are ``services/ads.py``.

A flag is a hypothesis for a person to check, never a verdict (INVESTIGATIONS.md section 0.2):
the NIJ-funded JIRN study found several popular indicators did not predict trafficking.
"""
