"""The ways to build a K x K convolution: one registry of convolution types and their raw counts."""
