"""Instruction data: the sample schema, SynthVL, real-format readers, templates, mixtures."""
