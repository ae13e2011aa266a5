"""Record linkage: normalisation, the Splink model, clustering, PPRL (Bloom-filter encodings)."""
