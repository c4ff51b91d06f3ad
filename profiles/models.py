"""Campaign planning: target customer profiles, brand guidelines, budgets, containers, usage."""
