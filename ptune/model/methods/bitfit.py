"""BitFit (Ben Zaken et al., 2022): only the backbone's bias terms train (with the task head); no prompts."""
from ptune.model.methods import METHODS
from ptune.model.methods.base import Method


@METHODS.register("bitfit")
class BitFit(Method):
    def trains_backbone_parameter(self, name: str) -> bool:
        return name.rsplit(".", 1)[-1] == "bias"
