"""Noisy-RNN replay: leakage, adaptation and momentum (see README)."""

__version__ = "0.1.0"
