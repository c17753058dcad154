"""The architectures of the zoo, one family per file (see :mod:`srbench_eval.models.architectures`).

Generators subclass :class:`~srbench_eval.models.archs.common.SRNet` and map RGB LR ``(N, 3, h, w)``
in [0, 1] to RGB SR ``(N, 3, s*h, s*w)``; discriminators return one logit per image.
"""
