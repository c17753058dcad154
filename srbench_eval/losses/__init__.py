"""Loss terms, one small module per family, and the weighted criterion a recipe builds.

``pixel`` (L1, MSE, Charbonnier), ``perceptual`` (VGG, ResNet, dual perceptual, Gram texture) on the
frozen networks of ``features``, ``adversarial`` (vanilla GAN, RaGAN), ``gradient`` (second-order
gradient, total variation), ``fine_grained`` (FDL); ``criterion`` sums a recipe's weighted terms and
reports each one. Every term documents its equation; :mod:`srbench_eval.losses.base` its protocol.
"""
