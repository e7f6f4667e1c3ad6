"""Held-in validation batches by its own size and shows a bar; a config the run cannot
follow (a held-out dataset in a mixture) is refused before anything is built or written."""

import pytest
from rich.progress import Progress

from instructvl.config.loader import validate
from instructvl.errors import InstructVLError
from instructvl.models.vlm import VisionLanguageModel
from instructvl.train.config import TrainConfig
from instructvl.train.trainer import Trainer
from tests.train.conftest import NAMES, train_dict


def test_validation_batches_by_eval_batch_size_with_a_progress_bar(tiny_parts, tiny_suite, tmp_path, monkeypatch):
    data = train_dict(tiny_parts, tiny_suite, steps=1, batch_size=2)
    data.update(eval_every=1, eval_samples_per_dataset=4, eval_batch_size=3)
    eval_sizes, bars = [], []
    real_forward, real_remove = VisionLanguageModel.forward, Progress.remove_task

    def forward(self, batch):
        if not self.training:
            eval_sizes.append(batch.input_ids.shape[0])
        return real_forward(self, batch)

    def remove_task(self, task_id):
        task = next(t for t in self.tasks if t.id == task_id)
        bars.append((task.description, task.completed, task.total))
        return real_remove(self, task_id)

    monkeypatch.setattr(VisionLanguageModel, "forward", forward)
    monkeypatch.setattr(Progress, "remove_task", remove_task)
    result = Trainer(validate(TrainConfig, data, "(test)"), tmp_path / "run", tensorboard=False).run()
    assert eval_sizes == [3, 1] * len(NAMES) * 2  # 4 samples per dataset in batches of 3; before step 1 and after it
    assert bars == [("validation", 4 * len(NAMES), 4 * len(NAMES))] * 2
    assert set(result.first_val_loss) == {"val_loss", *(f"val_loss/{n}" for n in NAMES)}


def test_a_held_out_dataset_is_refused_before_the_model_or_run_folder(tmp_path, tiny_parts, monkeypatch):
    from instructvl.data.synthvl.generate import Scale, generate_suite

    suite = tmp_path / "suite"
    generate_suite(suite, Scale(train=4, val=2, test=2), seed=0, names=["vqa", "vizwiz"])
    data = train_dict(tiny_parts, suite, steps=1)
    data["stages"][0]["data"] = {"datasets": ["vqa", "vizwiz"]}

    def build(cls, config):
        raise AssertionError("the model was built before the config was checked")

    monkeypatch.setattr(VisionLanguageModel, "build", classmethod(build))
    with pytest.raises(InstructVLError, match=r"stages\.0\.data \(stage 's1'\): held-out dataset\(s\) vizwiz"):
        Trainer(validate(TrainConfig, data, "(test)"), tmp_path / "run", tensorboard=False).run()
    assert not (tmp_path / "run").exists()
