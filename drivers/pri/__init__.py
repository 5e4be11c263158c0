"""ISDN PRI call control over libpri, on any E1 span of the driver model."""
