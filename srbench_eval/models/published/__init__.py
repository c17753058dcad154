"""Published models (``NAME@pub``): the registry in ``published.yaml``, loading by file format, the
models built from them.
"""
