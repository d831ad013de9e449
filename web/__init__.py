"""Sleuth web layer."""
