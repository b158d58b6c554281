"""Titles of API RP's own problems in the caller's language (Accept-Language: fr, nl, de, en and -BE variants)."""

from __future__ import annotations

LANGUAGES = ("en", "fr", "nl", "de")

TITLES: dict[str, dict[str, str]] = {
    "transitionNotAllowed": {
        "en": "This action is not allowed in the current state",
        "fr": "Cette action n'est pas permise dans l'état actuel",
        "nl": "Deze actie is niet toegestaan in de huidige toestand",
        "de": "Diese Aktion ist im aktuellen Zustand nicht erlaubt",
    },
    "formNotDraft": {
        "en": "Only a draft registration form can be changed",
        "fr": "Seul un formulaire d'inscription en brouillon peut être modifié",
        "nl": "Alleen een aanmeldingsformulier in ontwerp kan gewijzigd worden",
        "de": "Nur ein Anmeldeformular im Entwurf kann geändert werden",
    },
    "precondition": {
        "en": "The resource changed since you read it",
        "fr": "La ressource a changé depuis votre lecture",
        "nl": "De resource is gewijzigd sinds u ze las",
        "de": "Die Ressource hat sich seit Ihrem Lesen geändert",
    },
    "preconditionRequired": {
        "en": "If-Match with the resource's ETag is required",
        "fr": "If-Match avec l'ETag de la ressource est requis",
        "nl": "If-Match met de ETag van de resource is vereist",
        "de": "If-Match mit dem ETag der Ressource ist erforderlich",
    },
    "registrationFormNotValid": {
        "en": "The request needs a submitted registration form of this dossier",
        "fr": "La demande requiert un formulaire d'inscription soumis de ce dossier",
        "nl": "De aanvraag vereist een ingediend aanmeldingsformulier van dit dossier",
        "de": "Der Antrag erfordert ein eingereichtes Anmeldeformular dieses Dossiers",
    },
    "batchItemRefused": {
        "en": "An item of the batch cannot be applied; nothing was changed",
        "fr": "Un élément du lot ne peut être appliqué ; rien n'a été modifié",
        "nl": "Een element van de batch kan niet worden toegepast; er werd niets gewijzigd",
        "de": "Ein Element des Stapels kann nicht angewendet werden; nichts wurde geändert",
    },
    "consentRequired": {
        "en": "The person's consent is required for this",
        "fr": "Le consentement de la personne est requis pour cette action",
        "nl": "De toestemming van de persoon is vereist voor deze actie",
        "de": "Die Einwilligung der Person ist für diese Aktion erforderlich",
    },
    "idempotencyKeyReused": {
        "en": "This Idempotency-Key was used for another request",
        "fr": "Cette Idempotency-Key a servi pour une autre requête",
        "nl": "Deze Idempotency-Key werd voor een ander verzoek gebruikt",
        "de": "Dieser Idempotency-Key wurde für eine andere Anfrage verwendet",
    },
}


def language(accept_language: str | None) -> str:
    """The best of fr/nl/de/en for an Accept-Language header (q-values honoured); English by default."""
    if not accept_language:
        return "en"
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else "en"


def title(name: str, lang: str) -> str:
    return TITLES[name].get(lang, TITLES[name]["en"])
