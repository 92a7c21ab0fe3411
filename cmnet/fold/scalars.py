"""A fold's per-epoch scalars as TensorBoard event files in its folder (``tensorboard --logdir
runs/``): the training losses and accuracy, the monitored test metrics, the learning rate."""

from __future__ import annotations

from pathlib import Path


class ScalarLog:
    """Per-epoch scalars of one fold as TensorBoard event files in its folder (a no-op when
    disabled). A resumed fold purges the steps after its checkpoint, so a curve never holds
    an epoch twice."""

    def __init__(self, fold_dir: Path, start_epoch: int, enabled: bool = True):
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(fold_dir), purge_step=start_epoch + 1 if start_epoch else None)

    def epoch(self, rec: dict) -> None:
        if self.writer is None:
            return
        step = int(rec["epoch"])
        for k, v in rec.items():
            if k != "epoch" and isinstance(v, (int, float)):
                group = "test" if k.startswith("test_") else "train" if k.startswith("train_") else "optim"
                self.writer.add_scalar(f"{group}/{k.removeprefix(group + '_')}", float(v), step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
