"""Runnable examples: ``python -m ferrograd.examples.mnist_mlp``."""
