"""Figures for looking inside style transfer: images, feature maps, Gram matrices, losses.

Every function draws one matplotlib figure and returns it (a ``matplotlib.figure.Figure``),
so you can save it with ``fig.savefig("name.png")``. In a notebook the figure appears below
the cell; end the line with ``;`` so that it does not appear a second time as the cell's
result. No function calls ``plt.show()``.

One module per family of figure: :mod:`~nstlab.lab.viz.images`, :mod:`~nstlab.lab.viz.losses`,
:mod:`~nstlab.lab.viz.features` and :mod:`~nstlab.lab.viz.gram` (:mod:`~nstlab.lab.viz.layout`
holds what they share); their functions are all here too.

>>> nstlab.lab.viz.show_images({"photo": photo, "painting": painting})      # doctest: +SKIP
>>> nstlab.lab.viz.plot_layer_losses(result.history)                         # doctest: +SKIP
>>> nstlab.lab.viz.plot_layer_losses(result.history, share=True)             # doctest: +SKIP
>>> nstlab.lab.viz.show_feature_maps("vgg16", photo, "block3_conv1")         # doctest: +SKIP
>>> nstlab.lab.viz.show_gram(features["block2_conv1"])                       # doctest: +SKIP
>>> nstlab.lab.viz.plot_loss_curves({"adam": adam.history, "lbfgs": lbfgs.history}, x="time")
... # doctest: +SKIP
"""

from nstlab.lab.viz.features import show_feature_maps, strongest_channels
from nstlab.lab.viz.gram import channel_order, show_gram
from nstlab.lab.viz.images import as_picture, show_images
from nstlab.lab.viz.losses import plot_layer_losses, plot_loss_curves

__all__ = [
    "as_picture",
    "channel_order",
    "plot_layer_losses",
    "plot_loss_curves",
    "show_feature_maps",
    "show_gram",
    "show_images",
    "strongest_channels",
]
