"""Where training runs: ``tf.distribute`` strategies chosen by name.

* ``"default"``: one device (the GPU if there is one, else the CPU).
* ``"mirrored"``: :class:`tf.distribute.MirroredStrategy`, a copy of the network on each
  GPU of this machine (or each logical CPU device, as the tests use); every step splits
  the batch between them and averages the gradients.
* ``"multi-worker"``: :class:`tf.distribute.MultiWorkerMirroredStrategy`, the same across
  machines. Each machine runs the same command with the ``TF_CONFIG`` environment variable
  describing the cluster and its own index (see TensorFlow's "Multi-worker training with
  Keras" guide); without ``TF_CONFIG`` it runs alone. Create it before any other
  TensorFlow work in the process.

The batch size is always the *global* batch: with 2 devices and batch 4 each one gets 2.
"""

from __future__ import annotations

from nstlab.fast.recipe import check_strategy


def make_strategy(name: str = "default"):
    """The ``tf.distribute.Strategy`` called ``name`` (one of ``STRATEGIES``)."""
    import tensorflow as tf

    check_strategy(name)
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        # All-reduce by NCCL needs GPUs; on CPU devices copy through the host.
        cross_device = None if gpus else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy([d.name for d in devices],
                                              cross_device_ops=cross_device)
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()
