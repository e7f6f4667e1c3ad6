"""`python -m instructvl.cli ...` (used by `accelerate launch -m` and `torchrun -m`)."""

from instructvl.cli import main

main()
