"""The cost ledger: one row per answer (:mod:`~bot.ledger.rows`), its schema and migrations
(:mod:`~bot.ledger.schema`), the database store playing the three roles of
:mod:`~bot.ledger.roles`, an in-memory fake, pricing, summaries and the costs report."""
