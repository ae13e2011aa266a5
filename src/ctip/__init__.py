"""ctip: from the first contact with a victim of trafficking to privacy-safe national figures."""

__version__ = "0.1.0"
