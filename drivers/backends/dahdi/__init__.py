"""The DAHDI backend: real boards through the DAHDI kernel ABI (dahdi/user.h)."""
