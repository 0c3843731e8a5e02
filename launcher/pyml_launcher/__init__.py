"""Image builds and local runs of model homes (later issues)."""
