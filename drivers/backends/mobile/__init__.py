"""Mobile (GSM/LTE) modules driven by AT commands over serial ports (issue 20)."""
