"""Sleuth retrieval layer."""
