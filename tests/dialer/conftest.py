"""The dialer's test folders (pacing, campaigns, store, runner, cleaning) share the helper
kits in this folder (``campaign_testkit``, ``scripted_gateway_kit``): pytest puts the
folder of a ``conftest.py`` outside a package on ``sys.path``, so they import by their
unique module names. Nothing is defined here: never import from a conftest."""
