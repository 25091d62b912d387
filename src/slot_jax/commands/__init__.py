"""The command lines: ``main`` (training and evaluation), ``convert``, ``benchmark``, ``seeds`` and
``prepare`` (a dataset), with what they share (``startup``: the process settings each ``main()``
applies first; ``cli``: the ``--config`` flag, flag parsing, one-line errors, logging).

They run as ``python -m slot_jax.main``, ``slot_jax.convert``, ``slot_jax.benchmark``,
``slot_jax.seeds`` and ``slot_jax.data.prepare``: entry files that only call the command's
``main()``. Nothing else in the package imports this one.
"""
