"""VQA and iVQA accuracy against a transcription of the official VQA evaluation."""

import re

import pytest

from instructvl.errors import InstructVLError
from instructvl.eval.metrics.answer_norm import CONTRACTIONS, normalize_answer
from instructvl.eval.metrics.vqa import ivqa_accuracy, leave_one_out_accuracy, vqa_accuracy

# --- Reference: GT-Vision-Lab/VQA PythonEvaluationTools/vqaEvaluation/vqaEval.py
# (Python 3 master, identical in LAVIS), transcribed as written, including its
# dict-based leave-one-out and the re.UNICODE passed as re.sub's count.
OFFICIAL_CONTRACTIONS = {
    "aint": "ain't",
    "arent": "aren't",
    "cant": "can't",
    "couldve": "could've",
    "couldnt": "couldn't",
    "couldn'tve": "couldn't've",
    "couldnt've": "couldn't've",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "dont": "don't",
    "hadnt": "hadn't",
    "hadnt've": "hadn't've",
    "hadn'tve": "hadn't've",
    "hasnt": "hasn't",
    "havent": "haven't",
    "hed": "he'd",
    "hed've": "he'd've",
    "he'dve": "he'd've",
    "hes": "he's",
    "howd": "how'd",
    "howll": "how'll",
    "hows": "how's",
    "Id've": "I'd've",
    "I'dve": "I'd've",
    "Im": "I'm",
    "Ive": "I've",
    "isnt": "isn't",
    "itd": "it'd",
    "itd've": "it'd've",
    "it'dve": "it'd've",
    "itll": "it'll",
    "let's": "let's",
    "maam": "ma'am",
    "mightnt": "mightn't",
    "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've",
    "mightve": "might've",
    "mustnt": "mustn't",
    "mustve": "must've",
    "neednt": "needn't",
    "notve": "not've",
    "oclock": "o'clock",
    "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at",
    "'ows'at": "'ow's'at",
    "'ow'sat": "'ow's'at",
    "shant": "shan't",
    "shed've": "she'd've",
    "she'dve": "she'd've",
    "she's": "she's",
    "shouldve": "should've",
    "shouldnt": "shouldn't",
    "shouldnt've": "shouldn't've",
    "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd",
    "somebodyd've": "somebody'd've",
    "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll",
    "somebodys": "somebody's",
    "someoned": "someone'd",
    "someoned've": "someone'd've",
    "someone'dve": "someone'd've",
    "someonell": "someone'll",
    "someones": "someone's",
    "somethingd": "something'd",
    "somethingd've": "something'd've",
    "something'dve": "something'd've",
    "somethingll": "something'll",
    "thats": "that's",
    "thered": "there'd",
    "thered've": "there'd've",
    "there'dve": "there'd've",
    "therere": "there're",
    "theres": "there's",
    "theyd": "they'd",
    "theyd've": "they'd've",
    "they'dve": "they'd've",
    "theyll": "they'll",
    "theyre": "they're",
    "theyve": "they've",
    "twas": "'twas",
    "wasnt": "wasn't",
    "wed've": "we'd've",
    "we'dve": "we'd've",
    "weve": "we've",
    "werent": "weren't",
    "whatll": "what'll",
    "whatre": "what're",
    "whats": "what's",
    "whatve": "what've",
    "whens": "when's",
    "whered": "where'd",
    "wheres": "where's",
    "whereve": "where've",
    "whod": "who'd",
    "whod've": "who'd've",
    "who'dve": "who'd've",
    "wholl": "who'll",
    "whos": "who's",
    "whove": "who've",
    "whyll": "why'll",
    "whyre": "why're",
    "whys": "why's",
    "wont": "won't",
    "wouldve": "would've",
    "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've",
    "yall": "y'all",
    "yall'll": "y'all'll",
    "y'allll": "y'all'll",
    "yall'd've": "y'all'd've",
    "y'alld've": "y'all'd've",
    "y'all'dve": "y'all'd've",
    "youd": "you'd",
    "youd've": "you'd've",
    "you'dve": "you'd've",
    "youll": "you'll",
    "youre": "you're",
    "youve": "you've",
}
OFFICIAL_MANUAL_MAP = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
OFFICIAL_ARTICLES = ["a", "an", "the"]
OFFICIAL_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
OFFICIAL_COMMA_STRIP = re.compile(r"(\d)(\,)(\d)")
OFFICIAL_PUNCT = [
    ";",
    r"/",
    "[",
    "]",
    '"',
    "{",
    "}",
    "(",
    ")",
    "=",
    "+",
    "\\",
    "_",
    "-",
    ">",
    "<",
    "@",
    "`",
    ",",
    "?",
    "!",
]


def official_process_punctuation(in_text):
    out_text = in_text
    for p in OFFICIAL_PUNCT:
        if (p + " " in in_text or " " + p in in_text) or (re.search(OFFICIAL_COMMA_STRIP, in_text) is not None):
            out_text = out_text.replace(p, "")
        else:
            out_text = out_text.replace(p, " ")
    return OFFICIAL_PERIOD_STRIP.sub("", out_text, re.UNICODE)


def official_process_digit_article(in_text):
    out_text = []
    for word in in_text.lower().split():
        word = OFFICIAL_MANUAL_MAP.setdefault(word, word)
        if word not in OFFICIAL_ARTICLES:
            out_text.append(word)
    for word_id, word in enumerate(out_text):
        if word in OFFICIAL_CONTRACTIONS:
            out_text[word_id] = OFFICIAL_CONTRACTIONS[word]
    return " ".join(out_text)


def official_vqa_accuracy(res_ans, gt_answer_strings):
    """The per-question body of VQAEval.evaluate (answers as dicts with answer ids)."""
    answers = [{"answer": a, "answer_id": i + 1} for i, a in enumerate(gt_answer_strings)]
    res_ans = res_ans.replace("\n", " ").replace("\t", " ").strip()
    res_ans = official_process_digit_article(official_process_punctuation(res_ans))
    if len(set(a["answer"] for a in answers)) > 1:
        for ans_dic in answers:
            ans_dic["answer"] = official_process_punctuation(ans_dic["answer"])
    gt_acc = []
    for gt_ans_datum in answers:
        other_gt_ans = [item for item in answers if item != gt_ans_datum]
        matching_ans = [item for item in other_gt_ans if item["answer"] == res_ans]
        gt_acc.append(min(1, float(len(matching_ans)) / 3))
    return float(sum(gt_acc)) / len(gt_acc)


# --- Fixtures: number words, articles, punctuation, decimals, contractions, ties
# between disagreeing annotators, case and whitespace.
VQA_CASES = [
    ("two", ["2"] * 10),
    ("Two.", ["2", "2", "two", "3", "3", "3", "3", "3", "3", "3"]),
    ("2", ["two"] * 3 + ["2"] * 7),
    ("none", ["0"] * 4 + ["none"] * 6),
    ("the dog", ["dog"] * 5 + ["a dog"] * 5),
    ("A dog!", ["dog", "dog", "dog", "cat", "cat", "cat", "cat", "cat", "cat", "cat"]),
    ("dont know", ["don't know"] * 2 + ["no"] * 8),
    ("don't", ["don't", "don't", "dont", "no", "no", "no", "no", "no", "no", "no"]),
    ("3.5", ["3.5", "3.5", "35", "3", "3", "3", "3", "3", "3", "3"]),
    ("10,000", ["10000", "10000", "10,000", "many", "many", "many", "lot", "lot", "lot", "lot"]),
    ("yes, it is", ["yes"] * 10),
    ("t-shirt", ["t shirt", "t shirt", "tshirt", "t-shirt"] + ["shirt"] * 6),
    ("  Red\tand white \n", ["red and white", "red and white", "red", "white"] + ["red"] * 6),
    ("red", ["red", "red", "red", "red", "blue", "blue", "blue", "blue", "blue", "blue"]),
    ("blue", ["red", "blue", "green", "yellow", "black", "white", "gray", "pink", "brown", "orange"]),
    ("u.s.a.", ["usa", "usa", "usa", "us", "america", "america", "america", "america", "america", "america"]),
    ("left / right", ["left right", "left right", "left", "right", "left", "left", "left", "left", "left", "left"]),
    ("(1)", ["1", "1", "one", "2", "2", "2", "2", "2", "2", "2"]),
    ("nothing", ["nothing"] * 10),
    ("Wheres it", ["where's it", "where's it", "where's it", "no", "no", "no", "no", "no", "no", "no"]),
]


def test_contraction_table_is_the_official_one():
    assert CONTRACTIONS == OFFICIAL_CONTRACTIONS


EXTRA_ANSWERS = ["." * 40 + "yes", "3,5 (a) b", "a,b", "hello-world", "it's 5 o'clock", "Im ok", "One or Two?"]


@pytest.mark.parametrize("pred", [c[0] for c in VQA_CASES] + EXTRA_ANSWERS)
def test_prediction_normalisation_matches_official(pred):
    cleaned = pred.replace("\n", " ").replace("\t", " ").strip()
    expected = official_process_digit_article(official_process_punctuation(cleaned))
    assert normalize_answer(pred) == expected


def test_vqa_accuracy_matches_official_per_question_and_overall():
    preds, refs = [c[0] for c in VQA_CASES], [c[1] for c in VQA_CASES]
    expected = [official_vqa_accuracy(p, r) for p, r in VQA_CASES]
    ours = vqa_accuracy(preds, refs)
    assert max(abs(a - b) for a, b in zip(ours.per_sample, expected)) < 1e-12
    assert ours.score == pytest.approx(sum(expected) / len(expected), abs=1e-12)
    assert len(set(expected)) >= 5  # the fixture exercises many accuracy levels


def test_hand_computed_accuracy_levels():
    # k of 10 annotators agree: 1 -> 0.3, 2 -> 0.6, 3 -> 0.9, 4+ -> 1.0.
    assert [leave_one_out_accuracy("x", ["x"] * k + ["y"] * (10 - k)) for k in range(6)] == pytest.approx(
        [0.0, 0.3, 0.6, 0.9, 1.0, 1.0]
    )
    assert vqa_accuracy(["Two"], [["2"] * 2 + ["3"] * 8]).per_sample == pytest.approx([0.6])


def test_official_reference_mode_leaves_number_words_in_references():
    # The official script does not map "two" -> "2" in human answers.
    refs = [["two"] * 10]
    assert vqa_accuracy(["two"], refs).score == 0.0
    assert official_vqa_accuracy("two", refs[0]) == 0.0
    assert vqa_accuracy(["two"], refs, reference_normalisation="full").score == 1.0


def test_ivqa_accuracy_hand_computed():
    refs = [
        ["two", "2", "3", "three", "many"],
        ["cat", "dog", "dog", "bird", "cow"],
        ["Red", "red.", "red", "blue", "red"],
    ]
    ours = ivqa_accuracy(["2", "a cat", "RED"], refs)
    # "2" matches two/2 -> 2/2; "cat" matches once -> 1/2; "red" matches four -> capped at 1.
    assert ours.per_sample == [1.0, 0.5, 1.0]
    assert ours.score == pytest.approx(2.5 / 3)
    assert ivqa_accuracy(["zebra"], [["cat"] * 5]).per_sample == [0.0]


@pytest.mark.parametrize("metric", [vqa_accuracy, ivqa_accuracy])
def test_bad_input_raises(metric):
    with pytest.raises(InstructVLError, match="2 predictions but 1 references"):
        metric(["a", "b"], [["a"]])
    with pytest.raises(InstructVLError, match="sample 0: empty reference list"):
        metric(["a"], [[]])
    with pytest.raises(InstructVLError, match="must be a string"):
        metric([None], [["a"]])


def test_unknown_reference_mode_raises():
    with pytest.raises(InstructVLError, match="reference_normalisation"):
        vqa_accuracy(["a"], [["a"]], reference_normalisation="loose")
