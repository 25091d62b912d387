"""Bad input ends in one line, ``error: ...``, naming the key and the fix, before anything is compiled
or generated; and the command lines start without TensorFlow's start-up notices."""

import functools
import logging
import os
import re
import sys

import pytest
from conftest import REPO, tiny_set_prediction_train_config, tiny_train_config
from conftest import start_command as _start

from slot_jax.commands import cli
from slot_jax.config_base import ConfigFileError, load_config
from slot_jax.lib.quiet import import_quietly
from slot_jax.models.presets import tiny_savi_model_config
from slot_jax.train.validate import ConfigError, validate_config, validate_paths


def _set(config, key, value):
    *parents, last = key.split(".")
    for part in parents:
        config = config[part]
    config[last] = value


# (key, value, what the error says): each one alone makes tiny_train_config fail validate_config.
BAD_VALUES = [
    # Keys that take one of a fixed set of values.
    ("dtype", "float16", r"Unknown config.dtype='float16'; choose one of \['bfloat16', 'float32'\]"),
    ("parallelism", "tpu_magic", r"Unknown config.parallelism='tpu_magic'; choose one of"),
    ("schedule", "linear", r"Unknown config.schedule='linear'; choose one of"),
    ("on_nonfinite", "ignore", r"Unknown config.on_nonfinite='ignore'; choose one of"),
    ("model.architecture", "vae", r"Unknown config.model.architecture='vae'; choose one of"),
    ("model.slot_init", "uniform", r"Unknown config.model.slot_init='uniform'; choose one of"),
    ("data.targets", "boxes", r"Unknown config.data.targets='boxes'; choose one of"),
    ("data.name", "clevr_7", r"Unknown dataset config.data.name='clevr_7'. Known datasets"),
    ("data.name", "procedural_multi_dsprites/bogus", r"'procedural_multi_dsprites' has the configs"),
    ("data.name", "clevr/bogus", r"'clevr' has no configs; use 'clevr'"),
    # Image, encoder and decoder geometry.
    ("model.decoder.broadcast_size", (8, 8), r"decoder produces 8x8 images .*image_size is \(16, 16\)"),
    ("model.decoder.strides", (1, 1), r"decoder.strides=\(1, 1\) and .*features=\(8,\) differ"),
    ("model.decoder.strides", (0,), r"decoder.strides=\(0,\) must be integers >= 1"),
    ("model.encoder.strides", (1, 3), r"encoder.strides=\(1, 3\) downsample by 3, which does not"),
    ("model.encoder.strides", (1,), r"encoder.strides=\(1,\) and .*features=\(8, 8\) differ"),
    ("data.image_size", (32, 32), r"data.image_size=\(32, 32\) but config.model.image_size"),
    ("model.image_size", (16,), r"model.image_size=\(16,\) must be two integers"),
    ("model.num_channels", 1, r"num_channels=1 but every dataset's images are RGB"),
    ("model.slot_attention.num_heads", 3, r"num_heads=3 does not divide config.model.slot_size=16"),
    ("model.slot_attention.kind", "rotation", r"Unknown config.model.slot_attention.kind='rotation'"),
    ("model.slot_attention.kind", "translation", r"slot_init='gaussian' gives no poses"),
    ("model.slot_init", "random_poses", r"Unknown config.model.slot_init='random_poses'"),
    # Numbers out of range or not finite.
    ("learning_rate", float("nan"), r"config.learning_rate=nan must be a finite number > 0"),
    ("learning_rate", float("inf"), r"config.learning_rate=inf must be a finite number > 0"),
    ("learning_rate", 0.0, r"config.learning_rate=0.0 must be a finite number > 0"),
    ("num_train_steps", 0, r"config.num_train_steps=0 must be an integer >= 1"),
    ("warmup_steps", -1, r"config.warmup_steps=-1 must be an integer >= 0"),
    ("decay_steps", 0, r"config.decay_steps=0 must be an integer >= 1"),
    ("decay_rate", 0.0, r"config.decay_rate=0.0 must be a finite number > 0 and <= 1"),
    ("decay_rate", 1.5, r"config.decay_rate=1.5 must be a finite number > 0 and <= 1"),
    ("batch_size", 0, r"config.batch_size=0 must be an integer >= 1"),
    ("batch_size", 6, r"config.batch_size=6 is not divisible by the 4 devices"),
    ("eval_batch_size", 0, r"config.eval_batch_size=0 must be an integer >= 1"),
    ("eval_batch_size", 6, r"config.eval_batch_size=6 is not divisible by the 4 devices"),
    ("model.num_slots", 0, r"config.model.num_slots=0 must be an integer >= 1"),
    ("model.num_slots", 3, r"num_slots=3 is too few.*num_slots >= 4"),  # 3 sprites + background
    ("model.slot_attention.num_iterations", 0, r"num_iterations=0 must be an integer >= 1"),
    ("model.slot_attention.epsilon", 0.0, r"epsilon=0.0 must be a finite number > 0"),
    ("model.slot_attention.epsilon", float("nan"), r"epsilon=nan must be a finite number > 0"),
    ("grad_clip_norm", -1.0, r"config.grad_clip_norm=-1.0 must be a finite number >= 0"),
    ("grad_clip_norm", float("inf"), r"config.grad_clip_norm=inf must be a finite number >= 0"),
    ("log_every", 0, r"config.log_every=0 must be an integer >= 1"),
    ("checkpoint_every", 0, r"config.checkpoint_every=0 must be an integer >= 1"),
    ("keep_checkpoints", 0, r"config.keep_checkpoints=0 must be an integer >= 1"),
    ("data.max_objects", 0, r"config.data.max_objects=0 must be an integer >= 1"),
    ("data.num_train", 0, r"config.data.num_train=0 must be an integer >= 1"),
]


@pytest.mark.parametrize("key,value,match", BAD_VALUES, ids=lambda v: str(v)[:40])
def test_bad_value_is_a_config_error(key, value, match):
    config = tiny_train_config("/unused")
    validate_config(config)  # the tiny config itself is fine
    _set(config, key, value)
    with pytest.raises(ConfigError, match=match):
        validate_config(config)


def test_bad_combinations_are_config_errors():
    config = tiny_train_config("/unused", schedule="warmup_cosine", warmup_steps=4)
    with pytest.raises(ConfigError, match=r"warmup_steps=4 leaves no cosine decay.*< num_train"):
        validate_config(config)
    config = tiny_train_config("/unused")
    config.data.targets = "set_prediction"  # sprites have no object properties
    with pytest.raises(ConfigError, match=r"targets='set_prediction' needs object properties"):
        validate_config(config)
    config = tiny_set_prediction_train_config("/unused")
    validate_config(config)
    config.model.head.features = (16, 7)
    with pytest.raises(ConfigError, match=r"head.features=\(16, 7\) must end in 19"):
        validate_config(config)
    config = tiny_train_config("/unused")
    config.model = tiny_savi_model_config(image_size=tuple(config.data.image_size))
    with pytest.raises(ConfigError, match=r"architecture='savi' is a video model but .* images"):
        validate_config(config)


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("")
    return str(path)


def test_bad_paths_are_config_errors(tmp_path, a_file, monkeypatch):
    config = tiny_train_config(str(tmp_path / "tfds"))
    validate_paths(config, str(tmp_path / "new" / "workdir"))  # creatable: fine
    with pytest.raises(ConfigError, match=r"--workdir=.*a_file is a file, not a directory"):
        validate_paths(config, a_file)
    with pytest.raises(ConfigError, match=r"--workdir=.*/sub cannot be created: .*a_file' is a file"):
        validate_paths(config, os.path.join(a_file, "sub"))
    with pytest.raises(ConfigError, match=r"config.data.data_dir=.*a_file' is a file"):
        validate_paths(tiny_train_config(a_file))
    # Procedural data not generated yet: its folder must be writable.
    with pytest.raises(ConfigError, match=r"is not prepared there and its folder .* cannot be created"):
        validate_paths(tiny_train_config(os.path.join(a_file, "tfds")))
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ConfigError, match=r"--workdir=.* is not writable"):
        validate_paths(config, str(tmp_path))
    with pytest.raises(ConfigError, match=r"is not prepared there .* cannot be created in"):
        validate_paths(config)


def test_prepared_data_may_be_read_only(tmp_path, monkeypatch):
    from slot_jax.data.sources import make_builder

    config = tiny_train_config(str(tmp_path))
    folder = make_builder(config.data).data_dir
    os.makedirs(folder)
    with open(os.path.join(folder, "dataset_info.json"), "w") as f:
        f.write('{"name": "procedural_multi_dsprites", "version": "1.0.0"}')
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    validate_paths(config)


@pytest.fixture
def config_files(tmp_path):
    files = {
        "no_get_config": "x = 1\n",
        "name_error": "def get_config():\n    return undefined_name\n",
        "syntax_error": "def get_config(:\n",
        "value_error": "def get_config():\n    raise ValueError('bad value')\n",
    }
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


BAD_CONFIG_FILES = [
    ("missing.py", FileNotFoundError, r"config file '.*missing.py' does not exist; pass the path"),
    ("", FileNotFoundError, r"config file '.*' is a directory; pass the path of a config file"),
    ("no_get_config.py", ConfigFileError, r"defines no get_config\(\); add a function get_config"),
    ("name_error.py", ConfigFileError, r"failed at line 2: NameError: name 'undefined_name'"),
    ("syntax_error.py", ConfigFileError, r"failed at line 1: SyntaxError"),
    ("value_error.py", ConfigFileError, r"failed at line 2: ValueError: bad value; fix the config"),
]


@pytest.mark.parametrize("name,error,match", BAD_CONFIG_FILES)
def test_bad_config_file_in_load_config(config_files, name, error, match):
    with pytest.raises(error, match=match):
        load_config(str(config_files / name))


@functools.cache
def _define_main_flags() -> None:
    """``slot_jax.main``'s flags, defined once in this process."""
    from slot_jax.commands import main

    main.define_flags()


def _parse_error(argv, monkeypatch) -> str:
    """The one line ``cli.parse_flags`` exits with (``main``'s flags)."""
    _define_main_flags()

    monkeypatch.setattr(sys, "argv", argv)  # config_flags reads the overrides there
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_flags(argv)
    message = str(exit_info.value.code)
    assert message.startswith("error: ") and "\n" not in message
    return message


@pytest.mark.parametrize("name,error,match", BAD_CONFIG_FILES)
def test_bad_config_file_in_flags(config_files, name, error, match, monkeypatch):
    path = str(config_files / name)
    message = _parse_error(["prog", f"--config={path}", "--workdir=/tmp/x"], monkeypatch)
    assert message.startswith(f"error: --config={path}: ")
    assert re.search(match, message), message


@pytest.mark.parametrize(
    "args,match",
    [
        (["--config.no_such_key=1"], r"unknown key 'no_such_key'"),
        (["--config.num_train_steps=abc"], r"flag --config.num_train_steps=abc: invalid literal"),
        (["--mode=bogus"], r"flag --mode=bogus: value should be one of <train\|eval>"),
        # A second --config (the one ml_collections loads) naming a missing file, or none.
        (["--config=configs/no_such.py"], r"--config=configs/no_such.py: config file .* does not"),
        (["--config", "configs/no_such.py"], r"--config=configs/no_such.py: config file"),
        (["--config="], r"--config is empty; pass the path of a config file"),
    ],
)
def test_bad_flags_are_one_line(args, match, monkeypatch):
    argv = ["prog", f"--config={REPO / 'configs' / 'debug.py'}", "--workdir=/tmp/x", *args]
    message = _parse_error(argv, monkeypatch)
    assert re.search(match, message), message


# A line of C++ logging (absl's Python log lines name a .py file instead).
CPP_LOG_LINE = re.compile(r"[IWEF]\d{4} [\d:.]+ +\d+ [^\s\]]+\.(cc|cpp|h):\d+\] ")
# What TensorFlow, oneDNN, absl and JAX print on start-up that must not reach the console.
NOTICES = ("absl::InitializeLog", "oneDNN custom operations", "cpu_feature_guard",
           "Unable to initialize backend")


def test_startup_notices_are_held_back_and_the_rest_is_kept(tmp_path, capfd, monkeypatch):
    (tmp_path / "noisy_module.py").write_text(
        "import os, sys\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are written "
        "to STDERR\\n')\n"
        "os.write(2, b'I0000 00:00:1796308789.667875   23515 port.cc:153] oneDNN custom operations "
        "are on.\\n')\n"
        "os.write(2, b'W0000 00:00:1796308789.667875   23515 x.cc:1] a C++ warning\\n')\n"
        "os.write(2, b'E0000 00:00:1796308789.667875   23515 x.cc:2] a C++ error\\n')\n"
        "sys.stderr.write('noisy_module.py:7: UserWarning: a Python warning\\n')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    import_quietly("noisy_module")
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == [
        "E0000 00:00:1796308789.667875   23515 x.cc:2] a C++ error",
        "noisy_module.py:7: UserWarning: a Python warning",
    ]
    monkeypatch.delitem(sys.modules, "noisy_module")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # everything, as TensorFlow would
    import_quietly("noisy_module")
    assert len(capfd.readouterr().err.splitlines()) == 5


@pytest.mark.parametrize("path, level, message, shown", [
    ("orbax/checkpoint/checkpoint_manager.py", logging.WARNING, "Given directory is read only=%s",
     False),
    ("orbax/checkpoint/checkpoint_manager.py", logging.WARNING,
     "CheckpointManagerOptions.read_only=True, setting save_interval_steps=0.", False),
    ("orbax/checkpoint/checkpoint_manager.py", logging.INFO, "Saving checkpoint at step 2", False),
    ("orbax/checkpoint/checkpoint_manager.py", logging.WARNING, "Could not write step 2", True),
    # A failed save: the trainer reports it in one line; orbax's writer threads log it each.
    ("orbax/checkpoint/checkpoint_manager.py", logging.ERROR, "save failed", False),
    ("asyncio/base_events.py", logging.ERROR, "_GatheringFuture exception was never retrieved",
     False),
    ("tensorflow_datasets/core/dataset_builder.py", logging.WARNING,
     "Using custom data configuration: x", False),
    ("jax/_src/xla_bridge.py", logging.INFO, "Unable to initialize backend 'tpu'", False),
    ("slot_jax/train/loop.py", logging.INFO, "step 10", True),
    ("slot_jax/train/loop.py", logging.WARNING, "Skipped 2 non-finite updates", True),
])
def test_library_log_filter(path, level, message, shown):
    record = logging.LogRecord("absl", level, path, 1, message, None, None)
    assert cli._quiet_libraries(record) is shown


def test_command_lines_fail_in_one_line_and_start_quietly(tmp_path, a_file):
    """A few end-to-end runs, side by side: each exits non-zero with one ``error:`` line, no
    traceback, and no TensorFlow/oneDNN/absl/JAX start-up notice on stderr (``slot_jax.main``
    failing in flag parsing, at the first check, at a path check and at the restore;
    ``slot_jax.main`` on a missing flag file, ``slot_jax.benchmark`` in flag parsing,
    ``slot_jax.data.prepare`` on an unknown dataset, ``slot_jax.seeds`` on a bad ``--seeds``,
    ``slot_jax.convert`` without a TF checkpoint)."""
    debug = "--config=configs/debug.py"
    data = f"--config.data.data_dir={tmp_path / 'tfds'}"
    trained = tmp_path / "trained"
    os.makedirs(trained / "checkpoints" / "2")  # what orbax lists as step 2
    runs = {
        "missing config": (
            _start("slot_jax.main", "--config=configs/no_such.py", f"--workdir={tmp_path}"),
            "--config=configs/no_such.py: config file 'configs/no_such.py' does not exist",
        ),
        "unknown dtype": (_start("slot_jax.main", debug, f"--workdir={tmp_path}", data,
                                 "--config.dtype=float16"), "Unknown config.dtype='float16'"),
        "workdir is a file": (_start("slot_jax.main", debug, f"--workdir={a_file}", data),
                              f"--workdir={a_file} is a file, not a directory"),
        "no such step": (
            _start("slot_jax.main", debug, f"--workdir={trained}", data, "--mode=eval",
                   "--checkpoint_step=7"),
            r"No checkpoint at step 7 in .*saved steps: \[2\]",
        ),
        "benchmark": (_start("slot_jax.benchmark", "--config=configs/no_such.py"), "does not exist"),
        "flag file": (_start("slot_jax.main", debug, f"--workdir={tmp_path}",
                             f"--flagfile={tmp_path / 'no_such.flags'}"),
                      r"Unable to open flagfile: .*no_such.flags"),
        "prepare": (_start("slot_jax.data.prepare", "--dataset=no_such"), "Unknown dataset"),
        "seeds": (_start("slot_jax.seeds", debug, f"--workdir={tmp_path}", "--seeds=0,x"),
                  r"--seeds='0,x' is not a comma-separated list of integers"),
        "convert": (_start("slot_jax.convert", f"--tf_checkpoint={tmp_path / 'ckpt-500'}",
                           "--config=configs/clevr.py", f"--workdir={tmp_path}"),
                    r"No TensorFlow checkpoint at .*ckpt-500 \(there is no .*ckpt-500\.index\)"),
    }
    for name, (process, match) in runs.items():
        _, err = process.communicate(timeout=300)
        lines = [line for line in err.splitlines() if line.strip()]
        assert process.returncode != 0, (name, err)
        assert "Traceback" not in err, (name, err)
        assert lines[-1].startswith("error: ") and re.search(match, lines[-1]), (name, err)
        assert not [line for line in lines if any(n in line for n in NOTICES)], (name, err)
        # No C++ log line at all, e.g. TensorFlow's "failed call to cuInit" on a machine without a
        # GPU, which its after-init hook under absl's app.run used to log.
        assert not [line for line in lines if CPP_LOG_LINE.match(line)], (name, err)
