"""instructvl: visual instruction tuning of multimodal LLMs.

Compose a frozen vision encoder, a vision head and a language model; instruction-tune
on a balanced mixture of templated datasets; evaluate zero-shot with the right
inference and metric per task.
"""

__version__ = "0.1.0"
