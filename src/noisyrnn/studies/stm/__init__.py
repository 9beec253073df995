"""Short-term-memory study: dynamical phases of delayed cue discrimination in leaky RNNs (STM.md)."""
