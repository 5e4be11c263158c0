"""The demo's simulated call-centre floor (issue 17, issue 15 item 5).

Simulated agents work a collections campaign through the same desk commands a person
uses at the desktop: :mod:`.agents` decides what an agent does and when (sans-IO),
:mod:`.web_agents` carries that out over the service's HTTP API and WebSocket (the
real-time demo), :mod:`.shift` hands the same commands to a desk runner on a virtual
clock (the fast scripted shift), :mod:`.setup` makes the demo's database (campaign in
the ``cn`` regime, its dispositions, users and their assignments), and
:mod:`.prediction` compares the occupancy reached with what the pacing simulator
predicts for the same inputs.
"""
