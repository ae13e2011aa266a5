"""Signed, encrypted exchange between ctip instances and agencies (issue 17): the pure parts.

- ``package``: the ``.ctipx`` format (age-encrypted tar of a canonical manifest, its Ed25519
  signature and the payload), packing and safe opening;
- ``directory``: agency cards, trust anchors, directories, cross-signing, fingerprints;
- ``profiles``: purpose profiles (field allow-lists by tier, TLP, handling, consent);
- ``verify``: the receiver's checks in order.

Canonical JSON, signatures and time-stamp requests come from ``ctip.evidence``. No SQL, no
files: ``storage/exchange.py`` keeps the records, ``services/exchange.py`` runs the use cases.
"""
