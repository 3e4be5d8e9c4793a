"""Datasets, image I/O and preprocessing."""
