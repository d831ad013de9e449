"""Sleuth evals layer."""
