"""The infer phase's early stop for tasks scored on their first line."""

import torch

from instructvl.eval.infer import FirstLineDone
from tests.tiny import make_tokenizer


def test_first_line_done_stops_rows_after_a_non_blank_line_ends():
    tok = make_tokenizer(chat=False)
    prompt = tok("a b", add_special_tokens=False).input_ids
    rows = ["\n red", "red", "red \n blue"]
    ids = [tok(r, add_special_tokens=False).input_ids for r in rows]
    width = max(len(r) for r in ids)
    crit = FirstLineDone(tok)
    seen = []
    for n in range(1, width + 1):  # generate appends one token per call
        batch = [prompt + (r[:n] + [tok.pad_token_id] * (n - len(r[:n]))) for r in ids]
        seen.append(crit(torch.tensor(batch), None).tolist())
    # a leading line break alone does not stop a row; a line break after text does
    assert seen[-1] == [False, False, True]
    first_stop = next(i for i, s in enumerate(seen) if s[2])
    assert tok.decode(ids[2][: first_stop + 1]).strip().startswith("red")
    assert "\n" in tok.decode(ids[2][: first_stop + 1]) and "blue" not in tok.decode(ids[2][: first_stop + 1])
