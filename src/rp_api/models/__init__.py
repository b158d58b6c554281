"""SQLAlchemy 2 typed models. Importing this package registers every table on ``Base.metadata``."""

from rp_api.models.audit import AuditChainHead, AuditEvent

__all__ = ["AuditChainHead", "AuditEvent"]
