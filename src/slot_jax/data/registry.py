"""The datasets slot_jax knows, and how each maps onto the canonical example.

``config.data.name`` is ``"<builder>"`` or ``"<builder>/<config>"`` (TFDS spelling). The tf.data
pipeline reads every dataset through TFDS and converts it to the canonical example

* ``image`` uint8 ``[H, W, 3]``;
* ``ids`` int32 ``[H, W]`` instance ids, 0 = background (where the dataset has masks);
* ``objects`` dict of per-object tensors (where the dataset has properties);

before the shared crop/resize/scale of :mod:`slot_jax.data.pipeline`. A video dataset
(``DatasetSpec.video``) has ``video`` uint8 ``[T, H, W, 3]`` in place of ``image``, ``ids`` int32
``[T, H, W]`` (an object keeps its id in every frame), and ``boxes`` float32 ``[T, max_objects, 4]``
and ``centers`` float32 ``[T, max_objects, 2]`` (see :mod:`slot_jax.data.procedural.moving_sprites`).
MOVi-A to E (:mod:`slot_jax.data.movi`) are read from a prepared copy (``DatasetSpec.external``).
The in-memory source (:mod:`slot_jax.data.memory`) makes the same examples for the procedural
datasets without TFDS. Importing this module needs no TensorFlow; its tf functions import it when called.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from types import ModuleType

from slot_jax.data.procedural import moving_sprites

# TFDS ``clevr:3.1.0`` as the paper preprocesses it: ``image`` uint8 [320, 480, 3] -> /255, x2-1, crop
# [29:221, 64:256], bilinear resize (no antialiasing) to ``config.data.image_size``, clip to [-1, 1]
# (:func:`slot_jax.data.preprocess.crop_resize_scale`). CLEVR6 (``config.data.max_objects=6``) keeps
# the images with at most 6 objects, counted by ``len(objects["3d_coords"])``. Training reads
# ``train[512:]`` (the first 512 examples serve as train-eval) and evaluation reads ``validation``:
# the ``test`` split has no objects. clevr_with_masks and the procedural CLEVR-like scenes (240x320)
# use the same crop indices, as is common practice.
CLEVR_CROP = (29, 221, 64, 256)  # (y0, y1, x0, x1)


def _procedural_canonical(example: dict) -> dict:
    import tensorflow as tf

    ids = example["ids"]
    if ids.shape.rank == 3:
        ids = ids[..., 0]
    out = {"image": example["image"], "ids": tf.cast(ids, tf.int32)}
    if "objects" in example:
        out["objects"] = example["objects"]
    return out


def _procedural_video_canonical(example: dict) -> dict:
    import tensorflow as tf

    out = {"video": example["video"], "ids": tf.cast(example["ids"][..., 0], tf.int32)}
    out.update({k: example[k] for k in ("boxes", "centers", "objects")})
    return out


def _preset_values(generator: ModuleType, field: str) -> dict[str, int]:
    """``{preset: options.<field>}`` of a generator's presets, and ``""`` for the default (first)."""
    values = {name: getattr(options, field) for name, (_, options) in generator.PRESETS.items()}
    return {"": next(iter(values.values())), **values}


def _multi_object_canonical(example: dict) -> dict:
    from slot_jax.data import multi_object

    return multi_object.to_canonical(example)


def _movi_canonical(example: dict, max_instances: int) -> dict:
    from slot_jax.data import movi

    return movi.to_canonical(example, max_instances)


def _clevr_canonical(example: dict) -> dict:
    return {"image": example["image"], "objects": example["objects"]}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """How to read one TFDS builder.

    Attributes:
      builder: the TFDS builder name.
      canonical: maps a decoded TFDS example to the canonical example (see the module docstring).
      train_split, eval_split: TFDS split strings.
      procedural: generated offline; prepared automatically (sizes from ``config.data``).
      manual: read from files the user downloads into the TFDS ``manual_dir``.
      crop: ``(y0, y1, x0, x1)`` applied before resizing, or None.
      has_ids: the canonical example has an ``ids`` map (segmentation metrics are possible).
      has_properties: the objects carry CLEVR's properties (set prediction is possible).
      count_by: how ``config.data.max_objects`` counts the objects of an example: ``"ids"`` (the
        distinct non-zero ids, i.e. visible objects) or ``"coords"`` (the rows of
        ``objects["3d_coords"]``, occluded objects included).
      max_objects: the most objects an image holds, per TFDS config (key "" is the default).
      decode: the features to decode (a ``tfds.decode.PartialDecoding`` spec: nested dicts of
        True), or None for all; the rest are not even parsed.
      external: read only from a prepared copy in ``config.data.data_dir``, published at this
        address (MOVi); nothing is generated or downloaded.
      video: the examples are videos (``video`` in place of ``image``; see the module docstring).
      num_frames: frames per video, per TFDS config (key "" is the default); empty for images.
    """

    builder: str
    canonical: Callable[[dict], dict]
    train_split: str = "train"
    eval_split: str = "test"
    procedural: bool = False
    manual: bool = False
    decode: dict | None = None
    external: str | None = None
    crop: tuple[int, int, int, int] | None = None
    has_ids: bool = True
    has_properties: bool = False
    count_by: str = "ids"
    max_objects: dict[str, int] = dataclasses.field(default_factory=dict)
    video: bool = False
    num_frames: dict[str, int] = dataclasses.field(default_factory=dict)

    def count_objects(self, example: dict):
        """The number of objects in a canonical example, as a tf scalar (see ``count_by``)."""
        import tensorflow as tf

        if self.count_by == "coords":
            return tf.shape(example["objects"]["3d_coords"])[0]
        uniq, _ = tf.unique(tf.reshape(example["ids"], [-1]))
        return tf.reduce_sum(tf.cast(uniq > 0, tf.int32))

    def most_objects(self, config: str | None) -> int | None:
        """The most objects per image for a TFDS config, if known."""
        return self.max_objects.get(config or "", self.max_objects.get(""))

    def frames(self, config: str | None) -> int | None:
        """The frames per video for a TFDS config; None for images."""
        return self.num_frames.get(config or "", self.num_frames.get(""))


# What the MOVi reader uses; flows, depth, normals, object coordinates and the rest stay unread.
MOVI_FEATURES = {
    "video": True, "segmentations": True, "instances": {"bboxes": True, "bbox_frames": True},
}


def _movi_spec(builder: str, max_instances: int) -> DatasetSpec:
    """MOVi, as SAVi reads it: ``train`` for training, ``validation`` for evaluation, dense boxes
    for the first ``max_instances`` objects (:mod:`slot_jax.data.movi`)."""
    return DatasetSpec(
        builder, functools.partial(_movi_canonical, max_instances=max_instances),
        eval_split="validation", decode=MOVI_FEATURES, external="gs://kubric-public/tfds", video=True,
        max_objects={"": max_instances}, num_frames={"": 24},
    )


DATASETS: dict[str, DatasetSpec] = {
    spec.builder: spec
    for spec in [
        DatasetSpec(
            "procedural_multi_dsprites", _procedural_canonical, procedural=True,
            max_objects={"": 5, "simple": 3, "quickstart": 4, "clustered": 3},
        ),
        DatasetSpec(
            "procedural_tetrominoes", _procedural_canonical, procedural=True, max_objects={"": 3}
        ),
        DatasetSpec(
            "procedural_clevr", _procedural_canonical, procedural=True, crop=CLEVR_CROP,
            count_by="coords", max_objects={"": 10, "clevr6": 6}, has_properties=True,
        ),
        DatasetSpec(
            "procedural_moving_sprites", _procedural_video_canonical, procedural=True, video=True,
            max_objects=_preset_values(moving_sprites, "max_objects"),
            num_frames=_preset_values(moving_sprites, "num_frames"),
        ),
        DatasetSpec(
            "multi_dsprites", _multi_object_canonical, manual=True,
            max_objects={"": 5, "colored_on_colored": 4, "binarized": 3},
        ),
        DatasetSpec("tetrominoes", _multi_object_canonical, manual=True, max_objects={"": 3}),
        DatasetSpec("objects_room", _multi_object_canonical, manual=True, max_objects={"": 6}),
        DatasetSpec(
            "clevr_with_masks", _multi_object_canonical, manual=True, crop=CLEVR_CROP,
            max_objects={"": 10},
        ),
        DatasetSpec(
            "clevr", _clevr_canonical, train_split="train[512:]", eval_split="validation",
            crop=CLEVR_CROP, has_ids=False, count_by="coords", max_objects={"": 10},
            has_properties=True,
        ),
        # SAVi's max_instances: MOVi-A to C hold 3-10 objects, MOVi-D and E up to 23.
        _movi_spec("movi_a", 10), _movi_spec("movi_b", 10), _movi_spec("movi_c", 10),
        _movi_spec("movi_d", 23), _movi_spec("movi_e", 23),
    ]
}


def split_name(name: str) -> tuple[str, str | None]:
    """``"builder/config:version"`` -> ``("builder", "config")``."""
    name = name.split(":")[0]
    builder, _, config = name.partition("/")
    return builder, (config or None)


def get_spec(name: str) -> DatasetSpec:
    """The spec of ``config.data.name``; a clear error names the known datasets."""
    builder, _ = split_name(name)
    if builder not in DATASETS:
        raise ValueError(
            f"Unknown dataset config.data.name={name!r}. Known datasets: {', '.join(sorted(DATASETS))} "
            "(optionally with '/<config>', e.g. 'procedural_multi_dsprites/colored_on_grayscale')."
        )
    return DATASETS[builder]
