"""The held-out evaluation shared by ``--mode=eval`` and the periodic evaluation during training.

Every held-out example counts exactly once: the last batch is padded and its padding is masked out.
Per-image values are gathered from every device before averaging, so results do not depend on the
number of devices. :meth:`Evaluator.report` writes what both callers write: the metrics JSON, the
TensorBoard scalars, the log line and (object discovery) a slot grid PNG.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import flax.linen as nn
import jax
import ml_collections
import numpy as np
from absl import logging

from slot_jax.data.dataset import Dataset, resolve
from slot_jax.data.iterators import eval_iterator
from slot_jax.evaluation.collapse import collapse_warning
from slot_jax.evaluation.images import log_frames, log_images
from slot_jax.evaluation.outputs import make_eval_step
from slot_jax.evaluation.results import results_path, write_results
from slot_jax.evaluation.summary import summarize, summary_line
from slot_jax.evaluation.visualize import png_scale, save_png
from slot_jax.lib.logger import Logger
from slot_jax.lib.parallel import DataParallel

EVAL_KEY_SALT = 0x5EED


@dataclasses.dataclass
class Evaluator:
    """Evaluates ``params`` of ``model`` on the held-out split of ``dataset`` (the run's
    ``config.data``, resolved; default: resolved here).

    The eval step is compiled once (on first use) and reused by every call.
    """

    config: ml_collections.ConfigDict
    model: nn.Module
    par: DataParallel
    dataset: Dataset | None = None

    def __post_init__(self):
        if self.dataset is None:
            self.dataset = resolve(self.config.data)
        step = make_eval_step(self.model, self.config, self.dataset, self.par.axis_name)
        self._step = self.par.compile(step, donate_state=False)

    def __call__(self, params: Any, key: jax.Array) -> tuple[dict, dict]:
        """``(summary, first_batch)``: per-metric mean/sem/count, and the first host batch."""
        params = self.par.replicate(params)
        key = jax.random.fold_in(key, EVAL_KEY_SALT)
        chunks, first = [], None
        batches = eval_iterator(
            self.dataset, global_batch_size=self.config.eval_batch_size,
            num_examples=self.dataset.config.get("eval_examples"),
        )
        for i, batch in enumerate(batches):
            first = first or batch
            metrics = self._step(params, self.par.shard_batch(batch), jax.random.fold_in(key, i))
            chunks.append(jax.device_get(self.par.gather(metrics)))
        if not chunks:
            raise ValueError(f"The evaluation split of {self.dataset.name!r} is empty.")
        per_image = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        return summarize(per_image), first

    def report(self, params: Any, key: jax.Array, step: int, workdir: str) -> dict:
        """Evaluates, then writes ``<workdir>/eval/metrics_<step>.json``, the scalars (and for the
        autoencoder the slot grid, also as ``eval/slots_<step>.png``; for a video model the first
        video's frame strip, also as ``eval/frames_<step>.png``) under ``<workdir>/eval``, and
        logs one line, and a warning line when the slots look collapsed
        (:func:`slot_jax.evaluation.collapse.collapse_warning`). Returns ``{"step", "metrics",
        "path", "line", "warning"}`` (``warning`` is ``None`` when there is none)."""
        summary, first = self(params, key)
        path = results_path(workdir, step)
        if jax.process_index() == 0:
            write_results(workdir, step, summary)
            logger = Logger(workdir, "eval")
            scale = png_scale(self.config.model.image_size[0])
            if self.config.model.architecture == "autoencoder":
                grid = log_images(logger, self.model, params, first["image"], key, step)
                save_png(grid, os.path.join(workdir, "eval", f"slots_{step}.png"), scale)
            elif self.config.model.architecture == "savi":
                strip = log_frames(logger, self.model, params, first, key, step,
                                   self.config.get("eval_slice_size"))
                save_png(strip, os.path.join(workdir, "eval", f"frames_{step}.png"), scale)
            logger.scalars(step, {k: v["mean"] for k, v in summary.items()})
            logger.close()
        line = summary_line(step, summary, "videos" if self.dataset.num_frames else "images")
        logging.info("%s -> %s", line, path)
        warning = collapse_warning(summary, self.config.model.num_slots)
        if warning:
            logging.warning("Step %d: %s", step, warning)
        return {"step": step, "metrics": summary, "path": path, "line": line, "warning": warning}
