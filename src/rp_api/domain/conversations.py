"""Conversations between the parties of a dossier (messages échangés). Pure rules.

A conversation is visible only to users of its participating organisations; a medical conversation only to the
physicians among them and those working under them. Anyone else is told it does not exist (404).
"""

from __future__ import annotations

from rp_api.domain.actors import Role
from rp_api.domain.policy import PHYSICIAN_ROLES

NOT_PARTICIPANT = "notParticipant"
NOT_PHYSICIAN = "notPhysician"


def refusal(
    *, participants: frozenset[str], medical: bool, enterprise_number: str, roles: frozenset[Role]
) -> str | None:
    """Why the caller may not see the conversation, or None when it may."""
    if enterprise_number not in participants:
        return NOT_PARTICIPANT
    if medical and roles.isdisjoint(PHYSICIAN_ROLES):
        return NOT_PHYSICIAN
    return None
