"""Replay study: leakage, adaptation and momentum in noisy-RNN replay (SCIENCE.md)."""
