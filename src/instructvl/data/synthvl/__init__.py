"""SynthVL: a procedural suite of 26 small vision-language datasets in InstructBLIP's
11 categories (13 held-in for instruction tuning, 13 held-out for zero-shot evaluation).

Modules: `scenes` (the scene descriptions all ground truth comes from), `render`
(Pillow drawing), one module per category (`captioning`, `text_captioning`,
`reasoning`, `image_qa`, `knowledge`, `reading_qa`, `question_gen`, `video`, `dialog`,
`classification`, `llava`), `registry` (the dataset table), `generate` (writing the
suite), `loader` (reading it back), `suite` (training mixtures over it), `stats`.
"""
