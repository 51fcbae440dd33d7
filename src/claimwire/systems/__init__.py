"""Systems that produce annotation sets: rule baselines, stance baselines, adapters."""
