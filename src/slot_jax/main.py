"""Command line: ``python -m slot_jax.main --config=configs/<name>.py --workdir=DIR [--mode=...]``.

``--config.<key>=<value>`` overrides any config entry (ml_collections ``config_flags``).
"""

from slot_jax.commands.main import main

if __name__ == "__main__":
    main()
