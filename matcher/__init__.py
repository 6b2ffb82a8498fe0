"""The engine: domain types, hard rules, factors, candidates, optimiser, ranking, explanations."""
