"""What tuning the language model costs in text, for runs whose LLM weights changed
(trained in full, in a window of layers, or through LoRA):

- the mean KL divergence KL(run || untouched) of the run's next-token distributions from
  those of the untouched LLM (the same source, no LoRA) on a fixed set of text-only
  prompts: held-in prompts with the image removed and general instructions, each
  teacher-forced on its reference answer (`kl`, `prompts`);
- the scene-oracle score of the run (its LLM reading each SynthVL scene as text) against
  the untouched LLM's, paired on the same samples (`measure`).

`instructvl.eval.harness.evaluate` measures both for such runs into
`<run>/text_regression.json`; the evaluation and study reports show them (`report`).
"""
