"""Training-step and input-pipeline throughput: ``python -m slot_jax.benchmark --config=...``.

``--mode=step`` (default) times the trainer's own compiled train step (model, optimiser, state, loss
and data parallelism from :func:`slot_jax.train.build_setup`, as the trainer builds them) on a fixed
synthetic batch that is already on device; it works for every config, set prediction included.
``--mode=data`` times the trainer's input pipeline alone (``source``: ``tf.data``, or ``memory``
where TensorFlow is not installed or ``config.data.source="memory"``; see
:mod:`slot_jax.data.iterators`). Either prints exactly one JSON line on
stdout; logs go to stderr.

Flags: ``--config=configs/<name>.py [--config.key=value ...] [--mode=step|data] [--steps=N]
[--warmup=W] [--peak_tflops=X]`` (``X``: the dense peak of one device, for MFU).
"""

from slot_jax.commands.benchmark import main

if __name__ == "__main__":
    main()
