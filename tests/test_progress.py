"""StepBar: on a console that is not a terminal (a log file), a bar prints a line per tenth."""

import io

from rich.console import Console

from instructvl.progress import StepBar


def test_a_bar_logs_each_tenth_to_a_file():
    buf = io.StringIO()
    with StepBar(True, Console(file=buf, width=100)) as bar:
        task = bar.task("training", 40)
        for i in range(40):
            bar.update(task, advance=1, info=f"loss {i}")
    lines = [line for line in buf.getvalue().splitlines() if line.startswith("training: ")]
    assert [line.split(" (")[0] for line in lines] == [f"training: {4 * k}/40 loss {4 * k - 1}" for k in range(1, 11)]


def test_a_hidden_bar_prints_nothing():
    buf = io.StringIO()
    with StepBar(False, Console(file=buf)) as bar:
        bar.update(bar.task("training", 5), advance=5)
    assert buf.getvalue() == ""
