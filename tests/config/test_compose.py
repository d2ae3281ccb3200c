"""Composing a run config: an unknown group choice fails before any work listing the choices; an unknown key is
refused."""
from __future__ import annotations

import pytest
from hydra.errors import ConfigCompositionException, MissingConfigException

from ptune.config.compose import compose


@pytest.mark.parametrize("group,name,choice", [("method", "ptv3", "ptv2"), ("task", "rtee", "rte"),
                                                ("model", "roberta-lrg", "roberta-large")])
def test_unknown_names_fail_before_any_work_listing_the_choices(group, name, choice):
    with pytest.raises(MissingConfigException) as error:
        compose([f"{group}={name}"])
    assert f"Could not find '{group}/{name}'" in str(error.value) and choice in str(error.value)


def test_unknown_keys_are_refused():
    with pytest.raises(ConfigCompositionException, match="lenght"):
        compose(["prompt_lenght=8"])
