"""On-disk formats of the DeepMind multi-object datasets and their decoding (tf functions).

Each dataset is one GZIP TFRecord file of ``tf.train.Example`` published under
``gs://multi-object-datasets/<directory>/<file_name>``. Byte features (``image``, ``mask`` and, for
CLEVR, ``color``/``material``/``shape``/``size``) hold **one byte string per element**: they are
parsed with ``tf.io.FixedLenFeature(shape, tf.string)``, decoded with ``tf.io.decode_raw`` to uint8
(which appends an axis of length 1) and squeezed, exactly as the reference readers do. Masks are
uint8 in {0, 255} with entity 0 the background; Multi-dSprites stores them ``[H, W, E, 1]``, the
others ``[E, H, W, 1]``.
"""

from __future__ import annotations

import dataclasses
import os

import tensorflow as tf

BUCKET = "gs://multi-object-datasets"

# Shapes of the float features, with "E" standing for the number of entities and "C" for the
# number of image channels.
_DSPRITES_FLOATS = (
    ("x", ("E",)), ("y", ("E",)), ("shape", ("E",)), ("color", ("E", "C")),
    ("visibility", ("E",)), ("orientation", ("E",)), ("scale", ("E",)),
)
_CLEVR_FLOATS = (
    ("x", ("E",)), ("y", ("E",)), ("z", ("E",)), ("pixel_coords", ("E", 3)),
    ("rotation", ("E",)), ("visibility", ("E",)),
)
_TETROMINOES_FLOATS = (
    ("x", ("E",)), ("y", ("E",)), ("shape", ("E",)), ("color", ("E", 3)), ("visibility", ("E",)),
)


@dataclasses.dataclass(frozen=True)
class RecordSpec:
    """The layout of one published TFRecord file.

    Attributes:
      directory: folder in the ``multi-object-datasets`` bucket.
      file_name: the published file name.
      image_size: ``(H, W)``.
      num_entities: ``E``, masks per scene including the background entity 0.
      num_channels: image channels on disk (1 for binarized Multi-dSprites, else 3).
      mask_entity_last: masks are stored ``[H, W, E, 1]`` (Multi-dSprites) instead of ``[E, H, W, 1]``.
      float_features: ``(name, shape)`` of the float32 features; ``"E"``/``"C"`` in a shape stand for
        ``num_entities``/``num_channels``.
      byte_features: names of the per-entity ``[E]`` byte features (decoded to uint8).
    """

    directory: str
    file_name: str
    image_size: tuple[int, int]
    num_entities: int
    num_channels: int = 3
    mask_entity_last: bool = False
    float_features: tuple[tuple[str, tuple[int | str, ...]], ...] = ()
    byte_features: tuple[str, ...] = ()

    def float_shape(self, shape: tuple[int | str, ...]) -> tuple[int, ...]:
        """Resolves ``"E"``/``"C"`` placeholders in a feature shape."""
        sizes = {"E": self.num_entities, "C": self.num_channels}
        return tuple(sizes.get(d, d) if isinstance(d, str) else d for d in shape)

    @property
    def url(self) -> str:
        """The ``gs://`` address of the published file."""
        return f"{BUCKET}/{self.directory}/{self.file_name}"


def multi_dsprites_spec(variant: str) -> RecordSpec:
    """``variant``: colored_on_grayscale (E=6), colored_on_colored (E=5), binarized (E=4, 1 channel)."""
    num_entities = {"colored_on_grayscale": 6, "colored_on_colored": 5, "binarized": 4}[variant]
    return RecordSpec(
        "multi_dsprites", f"multi_dsprites_{variant}.tfrecords", (64, 64), num_entities,
        num_channels=1 if variant == "binarized" else 3, mask_entity_last=True,
        float_features=_DSPRITES_FLOATS,
    )


def objects_room_spec(variant: str) -> RecordSpec:
    """``variant`` in train (E=7), six_objects (10), empty_room (4), identical_color (10)."""
    num_entities = {"train": 7, "six_objects": 10, "empty_room": 4, "identical_color": 10}[variant]
    prefix = "objects_room_" if variant == "train" else "objects_room_test_"
    return RecordSpec("objects_room", f"{prefix}{variant}.tfrecords", (64, 64), num_entities)


CLEVR_WITH_MASKS = RecordSpec(
    "clevr_with_masks", "clevr_with_masks_train.tfrecords", (240, 320), 11,
    float_features=_CLEVR_FLOATS, byte_features=("size", "material", "shape", "color"),
)
TETROMINOES = RecordSpec(
    "tetrominoes", "tetrominoes_train.tfrecords", (35, 35), 4, float_features=_TETROMINOES_FLOATS,
)


def feature_description(spec: RecordSpec) -> dict[str, tf.io.FixedLenFeature]:
    """The ``tf.io.parse_single_example`` description of one record."""
    h, w = spec.image_size
    e = spec.num_entities
    mask_shape = [h, w, e, 1] if spec.mask_entity_last else [e, h, w, 1]
    description = {
        "image": tf.io.FixedLenFeature([h, w, spec.num_channels], tf.string),
        "mask": tf.io.FixedLenFeature(mask_shape, tf.string),
    }
    for name, shape in spec.float_features:
        description[name] = tf.io.FixedLenFeature(list(spec.float_shape(shape)), tf.float32)
    for name in spec.byte_features:
        description[name] = tf.io.FixedLenFeature([e], tf.string)
    return description


def _decode_bytes(x: tf.Tensor) -> tf.Tensor:
    """string ``[...]`` of one byte each -> uint8 ``[...]``."""
    return tf.squeeze(tf.io.decode_raw(x, tf.uint8), axis=-1)


def parse_record(serialized: tf.Tensor, spec: RecordSpec) -> dict[str, tf.Tensor]:
    """One serialized record -> the reference readers' example.

    Returns ``image`` uint8 ``[H, W, C]``, ``mask`` uint8 ``[E, H, W, 1]`` (Multi-dSprites transposed
    from ``[H, W, E, 1]``), the float32 features and the byte features as uint8 ``[E]``.
    """
    example = tf.io.parse_single_example(serialized, feature_description(spec))
    for name in ("image", "mask", *spec.byte_features):
        example[name] = _decode_bytes(example[name])
    if spec.mask_entity_last:
        example["mask"] = tf.transpose(example["mask"], [2, 0, 1, 3])
    return example


def to_stored(example: dict[str, tf.Tensor], spec: RecordSpec) -> dict:
    """A parsed record -> the features stored by the TFDS builders.

    Returns ``image`` uint8 ``[H, W, 3]`` (a 1-channel image is tiled to 3 channels), ``ids`` uint8
    ``[H, W, 1]`` = argmax over the entity masks (0 = background; where no mask is set, 0 too) and
    ``objects``: the per-entity features, first axis ``E``, always with ``visibility`` float32 ``[E]``
    (derived as "mask not empty" for Objects Room, whose files carry no properties).
    """
    image = example["image"]
    if spec.num_channels == 1:
        image = tf.tile(image, [1, 1, 3])
    masks = example["mask"][..., 0]  # [E, H, W]
    ids = tf.cast(tf.argmax(masks, axis=0, output_type=tf.int32), tf.uint8)[..., None]
    objects = {name: example[name] for name, _ in spec.float_features}
    objects.update({name: example[name] for name in spec.byte_features})
    if "visibility" not in objects:
        objects["visibility"] = tf.cast(tf.reduce_any(masks > 0, axis=[1, 2]), tf.float32)
    return {"image": image, "ids": ids, "objects": objects}


class MissingManualFileError(FileNotFoundError):
    """A published dataset file is not in the TFDS ``manual_dir``."""


def gsutil_command(spec: RecordSpec, manual_dir: str | os.PathLike) -> str:
    """The command that downloads ``spec``'s file into ``manual_dir``."""
    return f"gsutil cp {spec.url} {os.fspath(manual_dir).rstrip('/')}/"


def find_manual_file(spec: RecordSpec, manual_dir: str | os.PathLike) -> str:
    """``<manual_dir>/<file>`` or ``<manual_dir>/<directory>/<file>``, whichever exists.

    Raises:
      MissingManualFileError: neither exists; the message holds the ``gsutil cp`` command.
    """
    manual_dir = os.fspath(manual_dir)
    candidates = [
        os.path.join(manual_dir, spec.file_name),
        os.path.join(manual_dir, spec.directory, spec.file_name),
    ]
    for path in candidates:
        if tf.io.gfile.exists(path):
            return path
    raise MissingManualFileError(
        f"Missing {spec.file_name}: not found in the TFDS manual_dir {manual_dir} (searched "
        f"{' and '.join(candidates)}). Download it with:\n  {gsutil_command(spec, manual_dir)}\n"
        "and pass the folder as DownloadConfig(manual_dir=...) (config.data.manual_dir)."
    )
