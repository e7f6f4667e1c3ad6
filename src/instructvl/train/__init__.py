"""Training: stages, freeze policies, schedules, exact resume, distributed runs."""
