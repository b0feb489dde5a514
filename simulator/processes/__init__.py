"""The alert processes of the simulated account, one module each (docs/simulator.md).

Each ``plan(scenario, rng, c0, c1, plans)`` appends the :class:`~simulator.plan.Plan` of the
incidents its process starts in the chunk ``[c0, c1)``, drawing from the chunk's planning RNG;
:meth:`simulator.generator.AccountGenerator.plan_chunk` calls them in a fixed order
(background, flapping, maintenance, storms, outages), which fixes the account.
"""
