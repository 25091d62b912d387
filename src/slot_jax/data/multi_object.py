"""TFDS builders for the DeepMind multi-object datasets, read from the TFDS ``manual_dir``.

Builders (registered on import) and configs, the first one the default:

* ``multi_dsprites``: ``colored_on_grayscale`` (E=6), ``colored_on_colored`` (E=5), ``binarized`` (E=4);
* ``clevr_with_masks``: ``train`` (E=11, 240x320);
* ``tetrominoes``: ``train`` (E=4, 35x35);
* ``objects_room``: ``train`` (E=7), and the test sets ``six_objects`` (10), ``empty_room`` (4),
  ``identical_color`` (10).

The user downloads the published files
(``gsutil cp gs://multi-object-datasets/<dir>/<file> <manual_dir>/``) and passes
``download_config=tfds.download.DownloadConfig(manual_dir=...)``.

There are no official splits. The ``test`` split holds the first ``num_test`` records of the file
(default 320, as in many papers; :func:`holdout_config` sets another count) and ``train`` the rest. The
Objects Room test sets have a ``test`` split only, with all records.

Stored features: ``image`` uint8 ``[H, W, 3]`` (binarized Multi-dSprites' single channel is tiled to 3
channels), ``ids`` uint8 ``[H, W, 1]`` (argmax of the entity masks, 0 = background) and ``objects``,
a dict of per-entity tensors with leading axis ``E``, always including ``visibility``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from slot_jax.data import multi_object_specs as specs

DEFAULT_NUM_TEST = 320

_CITATION = """@misc{multiobjectdatasets19,
  title={Multi-Object Datasets},
  author={Kabra, Rishabh and Burgess, Chris and Matthey, Loic and Kaufman, Raphael Lopez and
          Greff, Klaus and Reynolds, Malcolm and Lerchner, Alexander},
  howpublished={https://github.com/deepmind/multi-object-datasets/},
  year={2019}
}"""


@dataclasses.dataclass(eq=False)
class MultiObjectConfig(tfds.core.BuilderConfig):
    """A published file and its held-out split.

    Attributes:
      spec: the file's layout.
      num_test: the first ``num_test`` records form ``test``, the rest ``train``; None puts the whole
        file into ``test`` (the Objects Room test sets).
    """

    spec: specs.RecordSpec | None = None
    num_test: int | None = DEFAULT_NUM_TEST


def _config(
    name: str, spec: specs.RecordSpec, num_test: int | None = DEFAULT_NUM_TEST
) -> MultiObjectConfig:
    held_out = "the whole file" if num_test is None else f"the first {num_test} records"
    return MultiObjectConfig(
        name=name, spec=spec, num_test=num_test,
        description=f"{spec.file_name}; test = {held_out}.",
    )


def holdout_config(builder: str | type, config_name: str, num_test: int) -> MultiObjectConfig:
    """``builder``'s config ``config_name`` with the first ``num_test`` records held out as ``test``.

    Use as ``tfds.builder("multi_dsprites", config=holdout_config("multi_dsprites",
    "colored_on_grayscale", 100))``. The config is named ``<config_name>_test<num_test>`` so that it
    is prepared into its own folder.
    """
    cls = tfds.builder_cls(builder) if isinstance(builder, str) else builder
    base = {c.name: c for c in cls.BUILDER_CONFIGS}[config_name]
    return _config(f"{config_name}_test{num_test}", base.spec, num_test)


def _features(spec: specs.RecordSpec) -> tfds.features.FeaturesDict:
    h, w = spec.image_size
    objects = {
        name: tfds.features.Tensor(shape=spec.float_shape(shape), dtype=np.float32)
        for name, shape in spec.float_features
    }
    objects.update(
        {name: tfds.features.Tensor(shape=(spec.num_entities,), dtype=np.uint8)
         for name in spec.byte_features}
    )
    objects.setdefault("visibility", tfds.features.Tensor(shape=(spec.num_entities,), dtype=np.float32))
    return tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(h, w, 3)),
        "ids": tfds.features.Image(shape=(h, w, 1)),
        "objects": tfds.features.FeaturesDict(objects),
    })


def _manual_dir(dl_manager: tfds.download.DownloadManager) -> str:
    """The configured manual_dir, also when it is absent or empty (TFDS' own check would fire)."""
    try:
        return str(dl_manager.manual_dir)
    except AssertionError:
        return str(dl_manager._manual_dir)  # the path TFDS was given; checked file by file below


class _MultiObjectBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Converts one published TFRecord file into ``train``/``test`` splits."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Download the published files from gs://multi-object-datasets (e.g. `gsutil cp "
        "gs://multi-object-datasets/multi_dsprites/multi_dsprites_colored_on_grayscale.tfrecords "
        "<manual_dir>/`) into the manual_dir, directly or in a sub-folder named as in the bucket."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"{type(self).__doc__} File: {self.builder_config.spec.url}.",
            features=_features(self.builder_config.spec),
            homepage="https://github.com/google-deepmind/multi_object_datasets",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        path = specs.find_manual_file(self.builder_config.spec, _manual_dir(dl_manager))
        num_test = self.builder_config.num_test
        if num_test is None:
            return {"test": self._generate_examples(path, 0, -1)}
        return {
            "train": self._generate_examples(path, num_test, -1),
            "test": self._generate_examples(path, 0, num_test),
        }

    def _generate_examples(self, path: str, start: int, count: int):
        """Records ``start, ..., start + count - 1`` (``count=-1``: to the end), keyed by index."""
        spec = self.builder_config.spec
        ds = tf.data.TFRecordDataset(path, compression_type="GZIP").skip(start).take(count)
        ds = ds.map(
            lambda r: specs.to_stored(specs.parse_record(r, spec), spec),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True,
        )
        empty = True
        for index, example in enumerate(ds.as_numpy_iterator(), start):
            empty = False
            yield index, example
        if empty:
            raise ValueError(
                f"{path} has no records from index {start} on: the file is truncated, or "
                f"num_test={self.builder_config.num_test} leaves nothing for train."
            )


class MultiDsprites(_MultiObjectBuilder):
    """Multi-dSprites, 64x64; ``binarized`` images are stored tiled to 3 channels."""

    BUILDER_CONFIGS = [
        _config(v, specs.multi_dsprites_spec(v))
        for v in ("colored_on_grayscale", "colored_on_colored", "binarized")
    ]


class ClevrWithMasks(_MultiObjectBuilder):
    """CLEVR (with masks), 240x320, 11 entities."""

    BUILDER_CONFIGS = [_config("train", specs.CLEVR_WITH_MASKS)]


class Tetrominoes(_MultiObjectBuilder):
    """Tetrominoes, 35x35, 4 entities."""

    BUILDER_CONFIGS = [_config("train", specs.TETROMINOES)]


class ObjectsRoom(_MultiObjectBuilder):
    """Objects Room, 64x64; the three test sets are configs with a ``test`` split only."""

    BUILDER_CONFIGS = [_config("train", specs.objects_room_spec("train"))] + [
        _config(v, specs.objects_room_spec(v), num_test=None)
        for v in ("six_objects", "empty_room", "identical_color")
    ]


def to_canonical(example: dict) -> dict:
    """A decoded example of these builders -> the canonical example (batched or not).

    Returns ``image`` uint8 ``[..., H, W, 3]``, ``ids`` int32 ``[..., H, W]`` (0 = background) and
    ``objects`` (dict of per-entity tensors ``[..., E, ...]``, including ``visibility``).
    """
    return {
        "image": example["image"],
        "ids": tf.cast(example["ids"][..., 0], tf.int32),
        "objects": example["objects"],
    }
