"""Recipes: an architecture, weighted loss terms, a discriminator, an initialisation (spec, registry,
overrides, the zoo's recipes).
"""
