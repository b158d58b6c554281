"""SQLAlchemy 2 typed models. Importing this package registers every table on ``Base.metadata``."""

from rp_api.models.audit import AuditChainAnchor, AuditChainHead, AuditEvent, AuditRetention
from rp_api.models.conversation import Conversation, ConversationParticipant, FeedEvent, Message, MessageRead
from rp_api.models.dossier import Addressee, Consent, Dossier, DossierParticipant
from rp_api.models.idempotency import IdempotencyRecord
from rp_api.models.identity import DossierMerge, SsinReplacement
from rp_api.models.link_cache import PersonLinkCache
from rp_api.models.registration_form import RegistrationForm
from rp_api.models.request import Decision, DecisionRound, FollowUp, HoursReport, Request, RequestRevision

__all__ = [
    "Addressee",
    "AuditChainAnchor",
    "AuditChainHead",
    "AuditEvent",
    "AuditRetention",
    "Consent",
    "Conversation",
    "ConversationParticipant",
    "Decision",
    "DecisionRound",
    "Dossier",
    "DossierMerge",
    "DossierParticipant",
    "FeedEvent",
    "FollowUp",
    "HoursReport",
    "IdempotencyRecord",
    "Message",
    "MessageRead",
    "PersonLinkCache",
    "RegistrationForm",
    "Request",
    "RequestRevision",
    "SsinReplacement",
]
