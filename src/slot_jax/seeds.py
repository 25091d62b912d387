"""Trains one config on several seeds at once: one ``python -m slot_jax.main`` process per seed.

Each process is pinned to its own CPU core and sees one JAX device, so a seed's result does not
depend on how many seeds run beside it: it is the run ``python -m slot_jax.main --config=FILE
--workdir=DIR/seed_S --config.seed=S`` makes on one core. With ``config.eval_every`` set, the
trainer's periodic evaluation gives each seed's curve (``DIR/seed_S/eval/metrics_<step>.json``).
The dataset is prepared once, before any seed starts. From the command line::

    python -m slot_jax.seeds --config=configs/learning_test.py --workdir=DIR --seeds=0,1,2,3,4 \\
        [--config.<key>=<value> ...]

prints each seed's final metrics beside the trivial baselines (:mod:`slot_jax.evaluation.baselines`) and
writes them, with every curve, to ``DIR/seeds.json``. The learning test runs the same function.
"""

from slot_jax.commands.seeds import main

if __name__ == "__main__":
    main()
