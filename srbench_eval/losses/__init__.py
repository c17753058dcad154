"""Loss terms, one small module per family, and the weighted criterion a recipe builds.

``pixel`` (L1, MSE, Charbonnier), ``perceptual`` (VGG, ResNet, dual perceptual, Gram texture) on the
frozen networks of ``features``, ``adversarial`` (vanilla GAN, RaGAN), ``gradient`` (second-order
gradient, total variation), ``fine_grained`` (FDL); ``criterion`` sums a recipe's weighted terms and
reports each one. Every term documents its equation; :mod:`srbench_eval.losses.base` its protocol.
"""

from srbench_eval.registry import Registry

#: Loss kinds a recipe can name (``LossSpec.kind``), each a :class:`~srbench_eval.losses.base.LossTerm`
#: class, imported (with torch) on first use so that validating names needs no network.
LOSS_KINDS: Registry[type] = Registry("loss", base="srbench_eval.losses.base:LossTerm")
for _kind, _impl in {
    "l1": "pixel:L1Loss",
    "mse": "pixel:MSELoss",
    "charbonnier": "pixel:CharbonnierLoss",
    "vgg": "perceptual:VGGPerceptualLoss",
    "resnet": "perceptual:ResNetPerceptualLoss",
    "dp": "perceptual:DualPerceptualLoss",
    "gram": "perceptual:GramTextureLoss",
    "gan": "adversarial:VanillaGANLoss",
    "ragan": "adversarial:RaGANLoss",
    "sog": "gradient:SecondOrderGradientLoss",
    "tv": "gradient:TotalVariationLoss",
    "fdl": "fine_grained:FineGrainedLoss",
}.items():
    LOSS_KINDS.add_lazy(_kind, f"{__name__}.{_impl}")

__all__ = ["LOSS_KINDS"]
