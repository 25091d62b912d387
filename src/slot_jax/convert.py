"""Command line: an official TF2 Slot Attention checkpoint as an orbax checkpoint of the trainer.

``python -m slot_jax.convert --tf_checkpoint=PATH --config=configs/clevr.py --workdir=DIR [--step=N]``

``PATH`` is a checkpoint prefix (``DIR/ckpt-500``) or the directory holding it and its
``checkpoint`` file. ``--config`` names the model the checkpoint is of: ``configs/clevr.py``
(object discovery) or ``configs/clevr_set_prediction.py`` (set prediction); ``--config.<key>=<value>``
overrides entries. The checkpoint is written as ``DIR/checkpoints/<step>``, which
``python -m slot_jax.main --config=... --workdir=DIR --mode=eval`` evaluates and ``--mode=train``
resumes; see :func:`slot_jax.train.convert_tf_checkpoint` for the step.
"""

from slot_jax.commands.convert import main

if __name__ == "__main__":
    main()
