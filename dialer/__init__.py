"""The hard dialer: campaigns, lists, pacing, agents, compliance and reports."""
