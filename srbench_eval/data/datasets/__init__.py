"""HR datasets: the registry in ``datasets.yaml``, folders, download, install, manifests, the cache."""
