"""The model core: vision encoder, vision heads, language model, and their composition."""
