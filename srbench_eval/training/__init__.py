"""Training the recipes of the model zoo: ``srbench-eval train --model NAME`` (see :mod:`.loop`)."""

from srbench_eval.training.config import TrainConfig
from srbench_eval.training.loop import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "train"]
