"""API RP: the REST/JSON back end of INAMI's return-to-work platform (plate-forme Réinsertion Professionnelle)."""

__version__ = "0.1.0"
