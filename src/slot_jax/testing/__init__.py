"""Support for the tests, the notebook and the benchmarks: ``keras_model.py``, Keras models of the
official architecture (they import TensorFlow when built). Nothing here is imported by the library.
"""
