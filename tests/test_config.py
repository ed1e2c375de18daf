"""TrainConfig: word2vec's defaults, presets, validation, TOML files, the generated flags."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from w2v import config as config_module
from w2v.cli import build_parser
from w2v.cli_args import config_from_args
from w2v.config import MAX_SENTENCE_LENGTH, PRESETS, TrainConfig, build_config, read_config_file
from w2v.engines import ENGINES
from w2v.errors import W2VError, flag_names


def train_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["train"]


def test_the_defaults_are_word2vecs():
    cfg = build_config()
    assert (cfg.model, cfg.dim, cfg.window, cfg.negative, cfg.sample) == ("sg", 100, 5, 5, 1e-3)
    assert (cfg.min_count, cfg.epochs, cfg.ns_exponent, cfg.min_alpha) == (5, 5, 0.75, 1e-4)
    assert cfg.shrink_windows and not cfg.tied and cfg.loss == "ns" and cfg.optimizer == "sgd"
    assert cfg.max_sentence_length == MAX_SENTENCE_LENGTH == 10_000
    assert cfg.learning_rate == 0.025
    assert build_config(model="cbow").learning_rate == 0.05  # word2vec's CBOW default
    assert build_config(model="cbow", alpha=0.01).learning_rate == 0.01


def test_the_seed_preset_is_the_original_project_and_flags_override_it():
    seed = build_config("seed")
    for key, value in PRESETS["seed"].items():
        assert getattr(seed, key) == value, key
    assert (seed.tied, seed.loss, seed.optimizer, seed.dim, seed.epochs) == (
        True,
        "bce",
        "adamw",
        128,
        32,
    )
    assert build_config("seed", dim=8, epochs=2).dim == 8
    assert build_config("seed", dim=None).dim == 128  # None means "not given"
    with pytest.raises(W2VError, match="unknown preset 'nope'"):
        build_config("nope")


BAD_VALUES = [
    ({"dim": 0}, "dim must be > 0", "--dim must be > 0"),
    ({"window": 0}, "window must be >= 1", "--window must be >= 1"),
    ({"sample": 1.0}, r"sample must be in \[0, 1\)", r"--sample must be in \[0, 1\)"),
    ({"min_count": 0}, "min_count must be >= 1", "--min-count must be >= 1"),
    (
        {"negative": 0},
        r"negative must be >= 1 for negative sampling \(loss='ns'\)",
        r"--negative must be >= 1 for negative sampling \(--loss ns\)",
    ),
    (
        {"alpha": 0.001, "min_alpha": 0.01},
        "min_alpha must not exceed alpha",
        "--min-alpha must not exceed --alpha",
    ),
    ({"model": "glove"}, "model must be one of sg, cbow, not 'glove'", "--model must be one of"),
    ({"dim": "ten"}, "dim: 'ten' is not a valid value", "--dim: 'ten' is not a valid value"),
    ({"dim": True}, "dim: True is not a valid value", "--dim: True"),  # a bool is no number
    ({"sync_words": 0}, "sync_words must be >= 1", "--sync-words must be >= 1"),
    ({"limit": 0}, "limit must be >= 1", "--limit must be >= 1"),
    ({"limit_sentences": -1}, "limit_sentences must be >= 1", "--limit-sentences must be >= 1"),
    ({"delimiter": "ab"}, "delimiter must be one character", "--delimiter must be one"),
    ({"tokenizer": "nltk"}, "tokenizer must be one of words, seed", "--tokenizer must be one"),
    ({"header": "maybe"}, "header must be one of auto, yes, no", "--header must be one of"),
    (
        {"engine": "numba", "optimizer": "adamw-dense"},
        "engine='numba' trains with loss='ns/bce' and optimizer='sgd/adamw'",
        "--engine numba trains with --loss ns/bce and --optimizer sgd/adamw",
    ),
    (
        {"engine": "numba", "loss": "bce", "model": "cbow"},
        "engine='numba' does not train loss='bce' with model='cbow'; use engine='torch'",
        "--engine numba does not train --loss bce with --model cbow; use --engine torch",
    ),
    (
        {"engine": "numba", "device": "mps"},
        "engine='numba' trains on the CPU, not device='mps'",
        "--engine numba trains on the CPU, not --device mps",
    ),
]


@pytest.mark.parametrize(("options", "python", "flag"), BAD_VALUES)
def test_a_bad_value_is_refused_by_its_python_name(options, python, flag):
    with pytest.raises(W2VError, match=f"^{python}"):
        build_config(**options)


@pytest.mark.parametrize(("options", "python", "flag"), BAD_VALUES)
def test_the_command_line_names_the_flag(options, python, flag):
    with flag_names(), pytest.raises(W2VError, match=f"^{flag}"):
        build_config(**options)


def test_delimiter_names():
    assert build_config(delimiter="tab").delimiter == "\t"
    assert build_config(delimiter="\\t").delimiter == "\t"
    assert build_config(delimiter="Comma").delimiter == ","
    assert build_config(delimiter=";").delimiter == ";"


def test_a_config_saved_before_the_tokenizer_option_resumes_with_its_rule():
    old = {k: v for k, v in build_config().to_dict().items() if k not in ("tokenizer",)}
    old.pop("strip_markup")
    assert TrainConfig.from_dict({**old, "keep_punctuation": False}).tokenizer == "seed"
    assert TrainConfig.from_dict({**old, "keep_punctuation": True}).tokenizer == "whitespace"
    assert TrainConfig.from_dict(old).strip_markup is False


def test_unknown_options_are_refused_and_dashes_are_accepted():
    with pytest.raises(W2VError, match="unknown option 'dimension'"):
        build_config(dimension=5)
    assert build_config(**{"min-count": 2}).min_count == 2


def test_an_integer_for_a_float_knob_becomes_a_float():
    cfg = build_config(alpha=1, sample=0)
    assert isinstance(cfg.alpha, float) and isinstance(cfg.sample, float)


def test_a_config_survives_a_round_trip_through_a_dict():
    cfg = build_config("seed", dim=16, eval=True, cache_dir="/tmp/c")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(W2VError, match=r"saved\.json: unknown option 'colour'"):
        TrainConfig.from_dict({**cfg.to_dict(), "colour": "red"}, "saved.json")


def test_the_engine_choices_are_the_registrys():
    field = next(f for f in dataclasses.fields(TrainConfig) if f.name == "engine")
    assert field.metadata["choices"] == ("auto", *ENGINES)


# -- TOML files ---------------------------------------------------------------------------


def test_a_toml_file_gives_options_and_a_preset(tmp_path):
    path = tmp_path / "my.toml"
    path.write_text('preset = "seed"\ndim = 32\nmin-count = 3\nmodel = "cbow"\n')
    values = read_config_file(path)
    assert values == {"dim": 32, "min_count": 3, "model": "cbow", "preset": "seed"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dim = 32\ncolour = 'red'\n", "unknown option 'colour'"),
        ("dim = \n", "not a valid config file"),
        ("[[x]]\n", "unknown option 'x'"),
    ],
)
def test_a_bad_toml_file_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(W2VError, match=message):
        read_config_file(path)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(W2VError, match=r"missing\.toml: config file not found"):
        read_config_file(tmp_path / "missing.toml")


# -- flags generated from the fields --------------------------------------------------------


def test_every_field_is_a_train_flag_with_its_help_and_choices():
    parser = train_parser()
    flags = {opt: a for a in parser._actions for opt in a.option_strings}
    for f in dataclasses.fields(TrainConfig):
        action = flags["--" + f.name.replace("_", "-")]
        assert action.default is None  # "not given", so a preset or file shows through
        assert f.metadata["help"] in action.help
        if f.metadata["choices"]:
            assert tuple(action.choices) == f.metadata["choices"]
    assert "--no-shrink-windows" in flags  # booleans get both spellings
    assert len(config_module.field_names()) == len(dataclasses.fields(TrainConfig))


def test_flags_override_the_file_which_overrides_the_preset(tmp_path):
    path = tmp_path / "my.toml"
    path.write_text('preset = "seed"\ndim = 32\nepochs = 3\n')
    args = train_parser().parse_args(["--config", str(path), "--dim", "8", "--no-tied"])
    cfg = config_from_args(args)
    assert cfg.dim == 8  # flag over file
    assert cfg.epochs == 3  # file over preset
    assert cfg.loss == "bce"  # the preset's, where neither says
    assert cfg.tied is False  # a --no- flag is a value, not "not given"
