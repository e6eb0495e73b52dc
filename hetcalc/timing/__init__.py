"""Bytes and seconds: memory traffic of each kernel, device profiles and the time model (no Report types)."""
