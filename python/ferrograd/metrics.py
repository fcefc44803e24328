"""Metrics (Keras names): accuracy, precision, recall, AUC, ..."""
