"""Evaluation: the shared span matcher, scorers, uncertainty, signatures and reports."""
