"""The installer's commissioning tools: ``trunkline scan``, ``config``, ``status``, ``test``.

They work on any backend (a DAHDI board, the simulated DAHDI kernel with
``--card dahdi:sim``, or the emulated card), through the same backend interface as
everything else. Each command prints verdicts an installer can act on (PASS / WARN /
FAIL with the likely cause) and exits 1 when any verdict is FAIL, so scripts can use it.

Modules: :mod:`.cli` (the argparse wiring), :mod:`.scan`, :mod:`.config` (generate,
import, apply), :mod:`.status`, :mod:`.testing` (timing, loopback, tones, levels),
:mod:`.checks` (the checks behind them all: findings and their likely causes) and
:mod:`.common` (opening the card, printing verdicts). Importing the package loads nothing.
"""
