"""What the command lines share besides their start (:mod:`slot_jax.commands.startup`): the
``--config`` flag, flag parsing with one-line errors, the one-line ``error:`` exit and logging."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Callable

from absl import app, flags, logging
from ml_collections import config_flags


def define_config_flag():
    """``--config=configs/<name>.py`` with ``--config.<key>=<value>`` overrides (ml_collections).

    ml_collections reads the command line's flag files as the flag is defined; one that cannot be
    read ends the program with one line here."""
    try:
        flag = config_flags.DEFINE_config_file("config", None, "Training config file.",
                                               lock_config=True)
    except flags.Error as err:
        fail(err)
    flags.mark_flags_as_required(["config"])
    return flag


def fail(message: object) -> None:
    """Exits with status 1 and ``error: <message>`` as one line on stderr."""
    sys.exit("error: " + " ".join(str(message).split()))


def _config_arguments(argv: list[str]) -> list[str]:
    """Each value of ``--config`` in ``argv`` (``--config=PATH`` or ``--config PATH``), in order."""
    found = []
    for i, arg in enumerate(argv):
        match = re.fullmatch(r"--?config(=(.*))?", arg)
        if match and match.group(1):
            found.append(match.group(2))
        elif match and i + 1 < len(argv):
            found.append(argv[i + 1])
    return found


def config_overrides(argv: list[str]) -> list[str]:
    """The ``--config.<key>=<value>`` arguments of ``argv``, in order."""
    return [arg for arg in argv if arg.startswith("--config.")]


def parse_flags(argv: list[str]) -> list[str]:
    """absl flag parsing with one-line errors: a missing config file (any ``--config`` given, the
    last one counting), one without ``get_config()`` or failing to load, an override of a key the
    config lacks, any other flag error."""
    from slot_jax import config_base

    configs = _config_arguments(argv)
    for path in configs:
        if not path:
            fail("--config is empty; pass the path of a config file, e.g. --config=configs/debug.py.")
        try:
            config_base.check_config_file(path)
        except FileNotFoundError as err:
            fail(f"--config={path}: {err}")
    config = configs[-1] if configs else None
    overrides = " ".join(config_overrides(argv))
    unknown = (
        "a --config override names the unknown key {!r} (" + overrides + "); "
        "check its spelling against the config file."
    )
    try:
        remaining = flags.FLAGS(argv)
        if config:  # ml_collections reports a config it failed to load only when it is read
            flags.FLAGS["config"].value  # noqa: B018
        return remaining
    except Exception as err:
        problem = config_base.config_file_error(config, err) if config else None
        if problem is not None:
            fail(f"--config={config}: {problem}")
        if isinstance(err, (AttributeError, KeyError)):  # config_flags on an unknown key
            fail(unknown.format(str(err).strip("\"'")))
        match = re.search(r"flag '--?config\.([\w.]+)'|flag 'config\.([\w.]+)'", str(err))
        if match:
            fail(unknown.format(match.group(1) or match.group(2)))
        fail(err if isinstance(err, flags.Error) else f"{type(err).__name__}: {err}")


def _quiet_libraries(record) -> bool:
    """Keeps TFDS's note on every sized config, orbax's warnings on a read-only manager (the
    evaluation's), the INFO lines of orbax (one per save) and of TFDS (several per dataset read;
    the procedural builders log their own line when they generate) and JAX's on each optional
    backend it cannot load ("Unable to initialize backend 'tpu'") off the console, and orbax's
    errors with their tracebacks (a failed save logs one per writer thread, and the trainer reports
    the failure itself, in one line); other warnings and errors show."""
    message = str(record.msg)
    if "Using custom data configuration" in message:  # TFDS, for every sized config
        return False
    if "orbax" in record.pathname and ("read_only" in message or "read only" in message):
        return False  # orbax on every read-only manager (--mode=eval), not a problem
    if "orbax" in record.pathname and record.levelno >= 40:  # 40: Python ERROR
        return False
    if "asyncio" in record.pathname and "exception was never retrieved" in message:
        return False  # the same failed save's writes, collected after the trainer reported it
    if record.levelno >= 30:  # 30: Python WARNING
        return True
    quiet_info = ("orbax" in record.pathname or "tensorflow_datasets" in record.pathname
                  or message.startswith("Unable to initialize backend"))
    return not quiet_info


def _quiet_unraisablehook(previous: Callable) -> Callable:
    """``sys.unraisablehook`` without the tracebacks TensorStore's threads print after a failed
    save: each of the save's other writes completes into the event loop orbax has closed by then."""

    def hook(unraisable) -> None:
        exc = unraisable.exc_value
        late = isinstance(exc, RuntimeError) and str(exc) == "Event loop is closed"
        if late and threading.current_thread() is not threading.main_thread():
            return
        previous(unraisable)

    return hook


def exit_now(line: str, status: int) -> None:
    """Writes ``line`` to stderr and ends the process with ``status`` at once, once the output is
    flushed: without the interpreter's tear-down, which collects every object of TensorFlow, JAX
    and tf.data and takes seconds (tens of seconds on a busy machine). The caller has closed
    everything that writes files."""
    sys.stdout.flush()
    logging.flush()
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    os._exit(status)


def run(main: Callable[[list[str]], None]) -> None:
    """``app.run(main)`` with INFO logging, the library filter and :func:`parse_flags` (the
    command's ``main()`` has called :func:`slot_jax.commands.startup.prepare_process`); an
    ``app.UsageError`` (e.g. unexpected arguments) is one line too.

    A KeyboardInterrupt (Ctrl-C), or the trainer's stop on a signal after saving (a
    KeyboardInterrupt carrying ``signum``), ends the process at once with its one line and status
    128 + the signal's number."""

    def checked(argv: list[str]) -> None:
        try:
            main(argv)
        except app.UsageError as err:
            fail(err)

    logging.set_verbosity(logging.INFO)
    logging.get_absl_handler().addFilter(_quiet_libraries)
    sys.unraisablehook = _quiet_unraisablehook(sys.unraisablehook)
    try:
        app.run(checked, flags_parser=parse_flags)
    except KeyboardInterrupt as err:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # another Ctrl-C ends the process now
        signum = getattr(err, "signum", signal.SIGINT)
        exit_now(" ".join(str(err).split()) or "Interrupted by Ctrl-C (SIGINT).", 128 + signum)
