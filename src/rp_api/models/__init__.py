"""SQLAlchemy 2 typed models. Importing this package registers every table on ``Base.metadata``."""

from rp_api.models.audit import AuditChainHead, AuditEvent
from rp_api.models.link_cache import PersonLinkCache

__all__ = ["AuditChainHead", "AuditEvent", "PersonLinkCache"]
