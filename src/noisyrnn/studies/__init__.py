"""One subpackage per study. Each declares its steps, figures and targets in ``study.py``."""
