"""Data: board profiles, tone zones, network audio, sample configurations.

Read through :func:`importlib.resources.files` (``trunkline.profiles``), so an installed
trunkline finds its data wherever pip put it.
"""
