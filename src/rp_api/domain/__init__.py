"""Pure domain rules: actors, workflow state machines, field visibility. No I/O here."""
