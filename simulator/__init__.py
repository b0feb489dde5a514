"""The simulated PagerDuty account (see docs/simulator.md); it ships with pagerlens, since the
demo, the tests and the benchmarks run on it.

The account: ``account`` (the model and ``generate_account``), ``state`` (an incident and its
as-of view), ``org`` (the organisation), ``scenario`` (account-level choices), ``processes``
(one module per alert process), ``generator`` (chunk by chunk), ``lifecycle``, ``responders``
and ``assemble`` (one incident's life), ``truth`` (what was planted), ``templates`` and
``data/`` (alert texts). Serving it: ``server`` (routing) with ``http``, ``pagination``,
``ratelimit``, ``faults``. ``generate`` writes it straight into a warehouse. Importing the
package is cheap: the modules are imported by name where they are used.
"""
