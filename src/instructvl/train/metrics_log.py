"""Training metrics as JSONL (one object per line) and TensorBoard scalars."""

from __future__ import annotations

import json
from pathlib import Path


class MetricsLog:
    """Appends records to `metrics.jsonl`; scalars also go to TensorBoard under `tb/`.
    `truncate_after(step)` drops records past a resumed checkpoint."""

    def __init__(self, run_dir: Path, tensorboard: bool = True) -> None:
        self.path = run_dir / "metrics.jsonl"
        self.writer = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(run_dir / "tb"))

    def truncate_after(self, step: int) -> None:
        if not self.path.is_file():
            return
        kept = [
            line for line in self.path.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step
        ]
        self.path.write_text("".join(line + "\n" for line in kept))

    def write(self, record: dict) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, record["step"])
            self.writer.flush()

    def read(self) -> list[dict]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
