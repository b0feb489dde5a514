"""The endpoints of the simulated PagerDuty, one module per family of resources.

Each function answers one request from the account index and the clock's snapshot and returns
the JSON body; :mod:`simulator.server` routes requests to them.
"""
