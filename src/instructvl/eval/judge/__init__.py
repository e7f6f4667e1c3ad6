"""LLM-as-judge scoring of generate tasks, by the LLaVA-Bench protocol.

A judge is given the image described in words (the SynthVL scene as the oracle writes it,
or the sample's captions), the question, the reference answer and the model's answer, and
asked for a 1-10 score for each answer; a task's *relative score* is the mean model score
over the mean reference score (x100 in reports). An endpoint judge writes its scores on
its reply's first line; replies that cannot be read as two scores are counted
(`n_unparsed`), as are requests that got no reply after the retries (`n_failed`); neither
is ever scored 0. The local judge generates nothing: it scores by likelihood, each
assistant's expected score under its probabilities of the 100 first lines "1 1" ..
"10 10", so it always gives two scores. Judgements are cached on disk by a hash of the
judge (how it scores included) and the prompt, so a rerun asks nothing twice.

    from instructvl.eval.judge import JudgeConfig
    evaluate(model, "held-out", "runs/x", judge=JudgeConfig(model="local"))     # SmolLM2 in process
    evaluate(model, "held-out", "runs/x", judge=JudgeConfig(model="gpt-4o"))    # $OPENAI_BASE_URL, $OPENAI_API_KEY

Modules, one concept each: `config` (which judge: a task spec's `judge` or the command
line's), `protocol` (the prompt, the score lines it asks for and the reply parser),
`context` (what a sample gives the judge), `endpoint` (an OpenAI-compatible chat endpoint
over HTTP: temperature 0, a timeout, retries with backoff), `local` (a language model in
this process, scoring by likelihood), `cache`
(judgements on disk), `score` (a task's relative score), `calibration` (judge verdicts
against exact-match accuracy on short-answer tasks), `report` (markdown).
"""

from instructvl.eval.judge.config import JudgeConfig

__all__ = ["JudgeConfig"]
