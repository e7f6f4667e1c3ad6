"""Process-group helpers: `accelerate launch` or `torchrun` start the processes; we read
rank and world size from accelerate's PartialState and all-reduce with torch.distributed
(gloo on CPU, NCCL on GPU). One process needs none of this.

Two strategies for several processes: `ddp` replicates the model and all-reduces the
gradients; `fsdp` (torch FSDP2, `fully_shard`) shards parameters, gradients and optimizer
state, so every step, validation pass and save is a collective that all ranks run."""

from __future__ import annotations

import contextlib

import torch
import torch.distributed as dist

from instructvl.errors import InstructVLError


class Processes:
    """Rank, world size and device of this process, the collectives the trainer uses, and
    the distributed strategy (`ddp` or `fsdp`; `sharded` is true for fsdp with more than
    one process)."""

    def __init__(self, strategy: str = "ddp") -> None:
        from accelerate import PartialState

        self.state = PartialState(cpu=not torch.cuda.is_available())
        self.rank = self.state.process_index
        self.world = self.state.num_processes
        self.device = self.state.device
        self.sharded = strategy == "fsdp" and self.world > 1

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

    def shard(self, model) -> None:
        """With fsdp, shards `model` in place: each transformer layer of its language model
        is one FSDP unit, the rest of the model the root unit. Must run before an optimizer
        is built (parameters become DTensors). Does nothing otherwise."""
        if not self.sharded:
            return
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh(self.device.type, (self.world,))
        for layer in model.llm.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)

    def wrap(self, model):
        """The model in DistributedDataParallel when there are several processes and it is
        not sharded (a sharded model is used as it is)."""
        if self.world == 1 or self.sharded:
            return model
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=True)

    @contextlib.contextmanager
    def gradient_sync(self, wrapped, sync: bool):
        """While active, backward passes of `wrapped` (from `wrap`) reduce gradients across
        processes only if `sync`; otherwise they accumulate locally (non-final micro-batches)."""
        if sync or self.world == 1:
            yield
        elif self.sharded:
            wrapped.set_requires_gradient_sync(False)
            try:
                yield
            finally:
                wrapped.set_requires_gradient_sync(True)
        else:
            with wrapped.no_sync():
                yield

    def full_weights(self, model) -> dict[str, torch.Tensor] | None:
        """With fsdp, the whole model's state dict gathered to CPU on the main process (a
        collective: every process must call it; the others get an empty dict). Otherwise
        None: the model's own parameters are already whole."""
        if not self.sharded:
            return None
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    def optimizer_state(self, model, optimizer) -> dict:
        """The optimizer's state dict for a checkpoint (used on the main process). With fsdp
        a collective that gathers the whole state, keyed by parameter name, to the main
        process; otherwise `optimizer.state_dict()`."""
        if not self.sharded:
            return optimizer.state_dict()
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

        return get_optimizer_state_dict(
            model, optimizer, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )

    def load_optimizer_state(self, model, optimizer, saved: dict) -> None:
        """Restores what `optimizer_state` returned (every process passes the whole saved
        state; with fsdp each keeps its shard). A state keyed by parameter name (from an
        fsdp run) loads into any run; one keyed by index only into an unsharded run."""
        by_name = any(isinstance(p, str) for group in saved["param_groups"] for p in group["params"])
        if by_name:
            from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

            set_optimizer_state_dict(model, optimizer, saved, options=StateDictOptions(full_state_dict=True))
        elif self.sharded:
            raise InstructVLError(
                "this checkpoint's optimizer state comes from an unsharded run (distributed: ddp or one process); "
                "resume it with distributed: ddp"
            )
        else:
            optimizer.load_state_dict(saved)


def clip_gradients(params: list[torch.Tensor], max_norm: float | None) -> float:
    """Scales the gradients of `params` so their global L2 norm is at most `max_norm`
    (None: no clipping) and returns the norm before clipping. Works on sharded (DTensor)
    gradients: the norm is then reduced over every process's shard."""
    from torch.distributed.tensor import DTensor

    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.nn.utils.get_total_norm(grads)
    if isinstance(norm, DTensor):
        norm = norm.full_tensor()
    torch.nn.utils.clip_grads_with_norm_(params, max_norm or float("inf"), norm)
    return float(norm)
