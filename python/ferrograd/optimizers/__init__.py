"""Optimizers and learning-rate schedules (Keras names and defaults)."""
