"""Datasets: MNIST and Fashion-MNIST from IDX files."""
