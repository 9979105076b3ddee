"""The algorithm's defaults: which layers, which weights, which optimiser settings.

They belong to the engine (:class:`nstlab.Objective` and :func:`nstlab.optimize_pixels`
use them when called directly); the run options (:mod:`nstlab.run.options`) take their
defaults from here, so each figure is written once.
"""

# Gatys et al. (2016): content from block4_conv2, style from the first layer of every block.
DEFAULT_CONTENT_LAYERS = ("block4_conv2",)
DEFAULT_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1",
                        "block5_conv1")
# Measured with the vgg16 backbone and the loss convention of nstlab.engine.losses (benchmarks).
DEFAULT_CONTENT_WEIGHT = 1e4
DEFAULT_STYLE_WEIGHT = 100.0
DEFAULT_TV_WEIGHT = 1.0

OPTIMIZERS = ("lbfgs", "adam")
DEFAULT_STEPS = {"lbfgs": 200, "adam": 1000}
# The TensorFlow tutorial's Adam step size (style_transfer.ipynb in tensorflow/docs).
ADAM_LEARNING_RATE = 0.02
LBFGS_HISTORY = 10
# Blur levels of L-BFGS's starting curvature guess (nstlab.engine.lbfgs.multiscale_smoothing).
LBFGS_SMOOTHING = 5
