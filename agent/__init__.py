"""Sleuth agent layer."""
