"""Layer raw: a wave folder (wave.yaml + the export as the survey tool wrote it) read, its headers matched to the
codebook, personal data dropped, ids pseudonymised, cells matched to answer categories."""
