"""Sleuth tools layer."""
