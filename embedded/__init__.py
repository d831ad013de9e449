"""The embedded model: a small GGUF served by llama.cpp on loopback, for machines with no LLM server."""
