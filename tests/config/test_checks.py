"""Typed schemas and range checks: every yaml composes into its implementation's schema, and each wrong
value is refused before any work with its key, its value and what was expected."""
from __future__ import annotations

import os
import time

import pytest
import torch
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf

from ptune import cli
from ptune.config import checks
from ptune.config.compose import compose
from ptune.config.schema import TrainerConfig
from ptune.errors import ConfigError
from ptune.model.methods import METHODS as METHOD_IMPLS
from ptune.model.methods.schemas import METHOD_SCHEMAS
from ptune.model.prompted import build_model
from ptune.store.run_id import run_id
from ptune.tasks import TASKS as TASK_IMPLS
from ptune.tasks.schemas import TASK_SCHEMAS
from tests.helpers import METHODS, TASKS

TINY = ("model=tiny-bert", "trainer=smoke", "device=cpu")


@pytest.mark.parametrize("method", METHODS)
def test_every_method_yaml_is_typed_by_its_implementations_schema(method):
    cfg = compose([f"method={method}", *TINY])
    assert OmegaConf.get_type(cfg.method) is METHOD_SCHEMAS.get(cfg.method.impl)
    METHOD_IMPLS.get(cfg.method.impl)  # and an implementation is registered under that impl
    checks.validate(cfg)


@pytest.mark.parametrize("task", TASKS)
def test_every_task_yaml_is_typed_by_its_implementations_schema(task):
    cfg = compose([f"task={task}", *TINY])
    assert OmegaConf.get_type(cfg.task) is TASK_SCHEMAS.get(cfg.task.impl)
    TASK_IMPLS.get(cfg.task.impl)  # and an implementation is registered under that impl
    checks.validate(cfg)


@pytest.mark.parametrize("impls,schemas", [(METHOD_IMPLS, METHOD_SCHEMAS), (TASK_IMPLS, TASK_SCHEMAS)])
def test_every_implementation_has_a_schema_and_every_schema_an_implementation(impls, schemas):
    assert impls.names() == schemas.names()


@pytest.mark.parametrize("trainer", ["default", "demo", "smoke"])
def test_every_trainer_yaml_is_typed_and_complete(trainer):
    cfg = compose([f"trainer={trainer}"])
    assert OmegaConf.get_type(cfg.trainer) is TrainerConfig and not OmegaConf.missing_keys(cfg.trainer)


@pytest.mark.parametrize("override,expected", [
    ("method.lr=abc", "method.lr=abc: Value 'abc' of type 'str' could not be converted to Float"),
    ("trainer.epochs=2.5", "trainer.epochs=2.5: Value '2.5' of type 'float' could not be converted to Integer"),
    ("prompt_length=abc", "prompt_length=abc: Value 'abc' of type 'str' could not be converted to Integer"),
    ("trainer.precision=fp64", "trainer.precision=fp64: Invalid value 'fp64', expected one of [auto, fp32, bf16, fp"),
    ("trainer.schedule=cosine", "trainer.schedule=cosine: Invalid value 'cosine', expected one of [linear, expon"),
    ("method=prompt method.init=zeros", "method.init=zeros: Invalid value 'zeros', expected one of [random, vocab, t"),
    ("prompt_lenght=3", "Key 'prompt_lenght' not in 'RunConfig'"),
])
def test_wrong_types_fail_at_composition_naming_key_value_and_expectation(override, expected):
    with pytest.raises(ConfigCompositionException) as error:
        compose(override.split())
    message, code = cli.report(error.value)
    assert code == 2 and expected in message


def test_unknown_group_choice_suggests_the_closest():
    with pytest.raises(MissingConfigException) as error:
        compose(["method=ptv3"])
    message, code = cli.report(error.value)
    assert code == 2 and "Did you mean 'ptv2'" in message and "bitfit, finetune" in message


@pytest.mark.parametrize("override,key", [
    ("method.lr=0", "method.lr=0.0: expected a learning rate > 0"),
    ("method.prefix_dropout=1.0", "method.prefix_dropout=1.0: expected a probability in [0, 1)"),
    ("prompt_length=0", "prompt_length=0: expected an integer >= 1"),
    ("trainer.epochs=0", "trainer.epochs=0: expected an integer >= 1"),
    ("trainer.batch_size=0", "trainer.batch_size=0: expected an integer >= 1"),
    ("trainer.eval_batch_size=-1", "trainer.eval_batch_size=-1"),
    ("trainer.grad_accum=0", "trainer.grad_accum=0"),
    ("trainer.max_train_examples=0", "trainer.max_train_examples=0: expected null (all) or >= 1"),
    ("trainer.warmup_ratio=1.0", "trainer.warmup_ratio=1.0: expected a fraction in [0, 1)"),
    ("trainer.max_grad_norm=0", "trainer.max_grad_norm=0.0"),
    ("task.max_length=4", "task.max_length=4"),
    ("task.metric=f1", "task.metric='f1': expected one of task.metrics ['accuracy']"),
    ("device=gpu", "device='gpu': expected auto, cpu, mps, cuda or cuda:N"),
    ("resume=maybe", "resume='maybe': expected true, false or auto"),
])
def test_out_of_range_values_are_refused_naming_the_key(override, key):
    with pytest.raises(ConfigError) as error:
        checks.validate(compose([*TINY, override]))
    assert key in str(error.value) and error.value.exit_code == 2


def test_a_method_without_prompts_ignores_prompt_length():
    cfg = compose([*TINY, "method=finetune", "prompt_length=0"])
    checks.validate(cfg)
    assert run_id(cfg) == run_id(compose([*TINY, "method=finetune", "prompt_length=7"]))
    assert "-psl" not in run_id(cfg) and "-psl16-" in run_id(compose([*TINY, "method=prompt"]))


def test_a_yaml_must_name_the_schema_of_its_impl():
    cfg = compose([*TINY, "method=ptv2"])
    cfg.method.impl = "shallow_prompt"
    with pytest.raises(ConfigError, match="needs the schema /schema/method/shallow_prompt@_here_"):
        checks.validate(cfg)


def test_prompt_length_within_the_backbone():
    checks.validate(compose([*TINY, "method=prompt", "prompt_length=384"]))  # 128 + 384 = 512 positions
    with pytest.raises(ConfigError, match="prompt_length=385: task.max_length 128 . prompt_length 385 = 513 exceeds"):
        checks.validate(compose([*TINY, "method=prompt", "prompt_length=385"]))
    checks.validate(compose([*TINY, "method=ptv2", "prompt_length=512"]))  # deep prefixes take no positions
    with pytest.raises(ConfigError, match="prompt_length=513: more prefix keys"):
        checks.validate(compose([*TINY, "method=ptv2", "prompt_length=513"]))


def test_attention_memory_estimate_by_hand_and_refusal(monkeypatch):
    cfg = compose([*TINY, "method=ptv2", "prompt_length=100", "trainer.batch_size=8", "trainer.eval_batch_size=64",
                   "trainer.precision=fp32"])
    backbone = checks.backbone_config(cfg.model)
    heads, layers = 4, 2  # conf/model/tiny-bert.yaml
    train = layers * 8 * heads * 128 * (128 + 100) * 12
    evaluate = 64 * heads * 128 * (128 + 100) * 12
    assert checks.attention_memory_bytes(cfg, backbone) == max(train, evaluate) == evaluate
    shallow = compose([*TINY, "method=prompt", "prompt_length=100", "trainer.batch_size=8", "trainer.precision=fp32"])
    assert checks.attention_memory_bytes(shallow, backbone) == layers * 8 * heads * 228 * 228 * 12
    monkeypatch.setattr(checks, "device_memory_bytes", lambda device: evaluate - 1)
    with pytest.raises(ConfigError, match=r"prompt_length=100: the attention matrices alone would take about"):
        checks.validate(cfg)


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux peak-RSS reset")
def test_attention_memory_estimate_stays_below_a_measured_training_step():
    """The estimate may refuse only runs that cannot fit: it must not exceed what a step really takes."""
    cfg = compose([*TINY, "method=ptv2", "prompt_length=512", "trainer.batch_size=96", "trainer.eval_batch_size=1",
                   "trainer.precision=fp32"])  # the step below runs without autocast
    task = type("Task", (), {"head": "classification", "num_labels": 2, "words_pretokenized": False})()
    model = build_model(cfg.model, cfg.method, task, 128).train()
    batch = {"input_ids": torch.randint(1000, 2000, (96, 128)), "attention_mask": torch.ones(96, 128, dtype=torch.long),
             "labels": torch.zeros(96, dtype=torch.long)}

    def peak_mib():
        status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
        return int(status) / 1024

    open("/proc/self/clear_refs", "w").write("5")
    time.sleep(0.1)
    before = peak_mib()
    model.loss(model(batch), batch).backward()
    measured = (peak_mib() - before) * 2**20
    estimate = checks.attention_memory_bytes(cfg, checks.backbone_config(cfg.model))
    assert 0.5 * measured < estimate <= measured, (estimate / 2**20, measured / 2**20)


