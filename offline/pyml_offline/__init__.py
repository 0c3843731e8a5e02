"""Spark batch predictions with a model's image (later issues)."""
