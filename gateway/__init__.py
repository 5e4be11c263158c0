"""The gateway service: owns the cards and presents every channel through one API.

Not built yet (see the [gateway] issue); the package exists so that the layout and the
import name ``trunkline.gateway`` are fixed from the start.
"""
