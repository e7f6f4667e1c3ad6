"""Process-group helpers: `accelerate launch` or `torchrun` start the processes; we read
rank and world size from accelerate's PartialState and all-reduce with torch.distributed
(gloo on CPU, NCCL on GPU). One process needs none of this."""

from __future__ import annotations

import torch
import torch.distributed as dist


class Processes:
    """Rank, world size and device of this process, plus the collectives the trainer uses."""

    def __init__(self) -> None:
        from accelerate import PartialState

        self.state = PartialState(cpu=not torch.cuda.is_available())
        self.rank = self.state.process_index
        self.world = self.state.num_processes
        self.device = self.state.device

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, value: float) -> float:
        """Sum of a scalar over processes."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item())

    def gather(self, obj) -> list:
        """`obj` of every process, in rank order (on every process)."""
        if self.world == 1:
            return [obj]
        out: list = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def wrap(self, model):
        """The model in DistributedDataParallel when there are several processes."""
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=True)
