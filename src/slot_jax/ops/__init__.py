"""The array operations the models are written in, each in the form that runs fastest on the
backend that compiles it. The models call these plain functions; the platform-specific forms live
here, and :mod:`.platform` is where the backend is chosen (when the program is lowered).

* :mod:`.elementwise`: :func:`relu`, :func:`add_bias` (CPU forms: a select, a bias over rows);
* :mod:`.convolution`: :func:`conv` (CPU form for few outputs: a matmul and shifted sums);
* :mod:`.subpixel`: :func:`conv_transpose` (``SAME``, sub-pixel; on CPU one convolution
  per phase);
* :mod:`.broadcast`: :func:`broadcast_conv`, the convolution of ``tile(vectors) + shared``
  without the broadcast;
* :mod:`.matmul`: :func:`rows_matmul`, :func:`few_input_matmul`, matmuls whose gradients are 2-D.

Each form equals the plain operation (``jax.nn.relu``, ``+``, ``lax.conv_general_dilated``,
``lax.conv_transpose``, ``@``) in values and gradients to float rounding (``tests/test_ops.py``);
``experiments/benchmarks.md`` has the timings.
"""

from slot_jax.ops.broadcast import broadcast_conv
from slot_jax.ops.convolution import conv
from slot_jax.ops.elementwise import add_bias, relu
from slot_jax.ops.matmul import few_input_matmul, rows_matmul
from slot_jax.ops.subpixel import conv_transpose

__all__ = ["add_bias", "broadcast_conv", "conv", "conv_transpose", "few_input_matmul", "relu",
           "rows_matmul"]
