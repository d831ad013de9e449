"""Sleuth corpus layer."""
