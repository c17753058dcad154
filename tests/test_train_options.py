"""The one table of training options (:mod:`srbench_eval.commands.train_options`): its defaults are
TrainConfig's and the Study's, and it generates the options of `train` and `study`."""

from __future__ import annotations

import dataclasses

from srbench_eval.commands.study import study
from srbench_eval.commands.train import train
from srbench_eval.commands.train_options import OPTIONS, study_fields
from srbench_eval.studies import Study
from srbench_eval.training import TrainConfig

# TrainConfig fields no option sets: the protocol options come from protocol_options (shared with
# `run`), the others are set by code (tests, the study, the training loop).
NOT_OPTIONS = {"protocol", "protocol_set", "augment", "progress", "stop_after", "extra"}


def _defaults(cls: type) -> dict[str, object]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def test_the_table_is_every_train_config_field_with_its_default() -> None:
    names = [o.name for o in OPTIONS]
    assert len(names) == len(set(names))
    assert set(names) == {f.name for f in dataclasses.fields(TrainConfig)} - NOT_OPTIONS
    defaults = _defaults(TrainConfig)
    assert {o.name: o.default for o in OPTIONS if o.name != "model"} == {n: defaults[n] for n in names[1:]}


def test_study_options_are_study_fields_with_the_study_defaults() -> None:
    defaults = _defaults(Study)
    for o in OPTIONS:
        if o.study is not None:
            assert defaults[o.name] == o.study.get("default", o.default), o.name
    assert set(study_fields()) <= set(defaults)


def test_the_commands_take_their_options_from_the_table() -> None:
    train_params = {p.name: p for p in train.params}
    study_params = {p.name: p for p in study.params}
    for o in OPTIONS:
        assert train_params[o.name].opts == [f for f in o.flags[0].split("/") if f][:1] + list(o.flags[1:])
        assert train_params[o.name].default == o.default
        if o.study is None:
            assert o.name not in study_params or o.name == "init"  # study's --init is its own option
        else:
            assert study_params[o.name].default == o.study.get("default", o.default)
    assert study_params["preset"].default == "smoke" and study_params["val"].default == "none"
    assert {"export", "quiet", "protocol", "protocol_set"} <= set(train_params)
