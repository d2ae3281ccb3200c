"""Full fine-tuning: every backbone weight and the task head train; no prompts."""
from ptune.model.methods import METHODS
from ptune.model.methods.base import Method


@METHODS.register("finetune")
class FineTune(Method):
    def trains_backbone_parameter(self, name: str) -> bool:
        return True
