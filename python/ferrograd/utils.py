"""Utilities: ``to_categorical``."""
