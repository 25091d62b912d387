"""Prepares a dataset once: ``python -m slot_jax.data.prepare --dataset=NAME``.

Procedural datasets are generated (``--num_examples`` sets the training size); the DeepMind
multi-object datasets are converted from the files in ``--manual_dir``; ``clevr`` is downloaded by
TFDS (17.7 GiB).
"""

from slot_jax.commands.prepare import main

if __name__ == "__main__":
    main()
