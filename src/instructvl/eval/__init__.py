"""Evaluation: task specs, inference per task (generate or rank), metrics, reports."""
