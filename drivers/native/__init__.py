"""cffi bindings to native libraries (libpri, spandsp, DAHDI), built on first use.

See :func:`trunkline.drivers.native.build.load_extension`.
"""
