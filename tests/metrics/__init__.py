"""Tests of instructvl.eval.metrics."""
