"""Count the floating-point operations of one style-transfer step from the layer shapes.

One step = the forward pass to the deepest layer used + the gradient with respect to the
input image (the weights are frozen, so no weight gradients) + the Gram matrices of the
style layers and their gradients. A multiply-add counts as 2 FLOPs.
"""

from __future__ import annotations

from nstlab.run.memory import feature_map_shapes


def conv_shapes(backbone: str, deepest: str, height: int, width: int):
    """Yield (layer, h, w, c_in, c_out) for every 3x3 convolution up to ``deepest``."""
    channels_in = 3
    for name, h, w, channels in feature_map_shapes(height, width, backbone=backbone,
                                                   deepest=deepest):
        if name.endswith("_pool"):
            continue
        yield name, h, w, channels_in, channels
        channels_in = channels


def step_flops(backbone: str, style_layers, deepest: str, height: int, width: int) -> float:
    """FLOPs of one loss-and-gradient evaluation (see the module docstring)."""
    convolutions = 0.0
    grams = 0.0
    for name, h, w, c_in, c_out in conv_shapes(backbone, deepest, height, width):
        convolutions += 2.0 * h * w * c_in * c_out * 9
        if name in style_layers:
            grams += 2 * (2.0 * h * w * c_out * c_out)  # G = F^T F, and F @ dL/dG going back
    # The gradient of a convolution with respect to its input costs what its forward pass does.
    return 2 * convolutions + grams
