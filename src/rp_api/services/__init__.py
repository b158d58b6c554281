"""Use cases: domain rules applied with the guard and the repositories. Services flush; they never commit."""
