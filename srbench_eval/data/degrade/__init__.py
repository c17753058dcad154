"""Degradations: MATLAB-compatible resizing (bicubic), its taps and compiled kernels."""
