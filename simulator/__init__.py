"""The simulated PagerDuty account (see docs/simulator.md).

``account`` (data model, ``generate_account``), ``org`` (organisation), ``incidents`` (alert
processes and lifecycles), ``templates`` (alert texts), ``generate`` (straight into a
warehouse), ``server`` and ``faults`` (the HTTP server). Importing the package is cheap: the
modules are imported by name where they are used.
"""
