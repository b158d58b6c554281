"""Authentication and authorisation: UMAN tokens into principals, person links, the pure access policy
and the per-person audit log (filled by the authentication and policy issues)."""
