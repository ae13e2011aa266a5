"""The evidence locker's pure parts (INVESTIGATIONS.md section 3): no SQL, no files, no network.

- ``canonical``: RFC 8785 canonical JSON and SHA-256 digests;
- ``signing``: Ed25519 keys, signatures and fingerprints;
- ``merkle``: the RFC 9162 Merkle tree hash over a log's entry hashes;
- ``custody``: custody events, their hash chain and its verification;
- ``checkpoint``: signed checkpoints of a log (custody log of a case, or the main audit log);
- ``timestamp``: RFC 3161 requests and token verification;
- ``bundle``: the export bundle's manifest and its verification.

These are the reusable pieces for exchange packages (issue 17): ``canonical_json``,
``sign_canonical`` / ``verify_canonical``, ``timestamp_request`` / ``verify_token``.
"""
