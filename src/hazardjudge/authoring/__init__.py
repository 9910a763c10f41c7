"""What standards staff use: lint, the YAML test cases, coverage, diffs between bundles, the pytest plugin."""
