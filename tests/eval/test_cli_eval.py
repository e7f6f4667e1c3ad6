"""`instructvl eval` on the command line: its help, option validation, task files, --dry-run."""

from typer.testing import CliRunner

from instructvl.cli import _register, app

_register()
runner = CliRunner()


def words(text: str) -> str:
    """Help output with its box drawing and line breaks removed."""
    return " ".join(text.replace("│", " ").split())


def test_help_lists_groups_task_names_and_the_data_root():
    result = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = words(result.output)
    assert "Groups: held-in, held-out, synthvl, real, real-held-in, all." in text
    assert "Real benchmarks, named real-* (their files under --data-root): real-nocaps," in text
    assert "real-scienceqa" in text and "real-vqav2" in text and "llava-conv" in text
    assert "task files (my_tasks.yaml" in text
    assert "Folder holding the real benchmarks (real-* tasks), one subfolder each as its archives unpack" in text
    assert "--dry-run" in text


def test_negative_limit_and_zero_batch_size_are_refused():
    limit = runner.invoke(app, ["eval", "--limit", "-1"])
    assert limit.exit_code == 2
    assert "Invalid value for '--limit': Input should be greater than or equal to 0" in words(limit.output)
    batch = runner.invoke(app, ["eval", "--batch-size", "0"])
    assert batch.exit_code == 2
    assert "Invalid value for '--batch-size': Input should be greater than or equal to 1" in words(batch.output)


def test_a_task_file_on_the_command_line(suite, tmp_path):
    path = tmp_path / "my_tasks.yaml"
    path.write_text(
        "tasks:\n  my-vsr: {suite: synthvl, held_out: true, source: {dataset: vsr, split: test}, "
        "template: true_false, output: rank, metric: top1}\n"
    )
    result = runner.invoke(app, ["eval", "--tasks", str(path), "--data", str(suite), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "my-vsr (held-out; template true_false, mode instruction)" in words(result.output)
    assert "ranked by sum log-probability: true | false; metric top1" in result.output
    unknown = runner.invoke(app, ["eval", "--tasks", "my_task", "--dry-run"])
    assert "unknown task 'my_task'" in str(unknown.exception) and "a task file (.yaml)" in str(unknown.exception)
