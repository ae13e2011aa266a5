"""The domain core: the case-record standard, its code lists and the rules over them.

Pure dataclasses and functions; the standard library only (enforced by tests/test_architecture.py).
"""
