"""What decides: the bundle's models, loading and checks, conditions, compilation to durable_rules, evaluation, verdicts, and the oracle that tests them."""
