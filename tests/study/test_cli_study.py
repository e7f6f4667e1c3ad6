"""`instructvl study`: the help lists the studies; --dry-run prints the plan."""

from typer.testing import CliRunner

from instructvl.cli import _register, app

_register()
runner = CliRunner()


def test_help_lists_the_studies():
    result = runner.invoke(app, ["study", "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "families, instructblip-ablations, layers" in result.output.replace("comparative-ablations, ", "")
    assert "--dry-run" in result.output and "--scale" in result.output


def test_dry_run_prints_the_scaled_plan(tmp_path):
    result = runner.invoke(
        app,
        [
            "study",
            "layers",
            "--dry-run",
            "--scale",
            "0.5",
            "--seeds",
            "1",
            "--cells",
            "inject-0,tune-all",
            "--out",
            str(tmp_path / "s"),
        ],
        terminal_width=250,
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "2 cells x 1 seeds = 2 runs, scale 0.5" in out
    assert (
        "| inject-0 | 0 | 12 x 8 | head + projector + llm frozen | instruction, sqrt, all held-in | "
        "held-in,held-out x 2 | probes,interventions |"
    ) in out
    assert "| tune-all | 0 | 12 x 8 | head + projector + llm full |" in out
    assert "estimated time:" in out and "for the 2 runs not finished" in out
    assert not (tmp_path / "s").exists()
